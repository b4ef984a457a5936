"""Choosing a `tf.distribute` strategy from one flag, and saying what was found.

This must run before TensorFlow touches a device: splitting the CPU into logical devices for `mirrored`
is only possible while the runtime is still uninitialised.
"""

import os

import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.training.config import STRATEGIES

CPU_REPLICAS = 2


def _split_cpu(replicas):
    """Gives the CPU `replicas` logical devices (once, before TensorFlow initialises); returns their names."""
    physical = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            physical[0], [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
        )
    except RuntimeError:
        pass  # Already initialised: use whatever logical devices exist; checked just below.
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(devices) < replicas:
        raise UserError(
            f"mirrored on CPU needs {replicas} logical CPU devices but TensorFlow was initialised with "
            f"{len(devices)}; select the strategy before any other TensorFlow work"
        )
    return devices[:replicas]


def _tpu_strategy():
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"--strategy tpu: no TPU found ({reason}); run on a Cloud TPU VM or set TPU_NAME") from exc
    return tf.distribute.TPUStrategy(resolver)


def select_strategy(name="auto"):
    """Returns the strategy for `name`, one of `STRATEGIES`.

    - `auto`: all GPUs mirrored when there are several, the one GPU when there is one, else the CPU.
    - `cpu` / `gpu`: one device of that kind (`gpu` fails in one line when there is none); a single
      device runs under TensorFlow's default strategy.
    - `mirrored`: data-parallel over all GPUs, or over two logical CPU devices on a machine without GPUs
      (useful to test distributed code paths on a laptop).
    - `tpu`: the TPU named by `$TPU_NAME` (or the local one on a TPU VM).
    """
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if name == "tpu":
        return _tpu_strategy()
    gpus = tf.config.list_physical_devices("GPU")
    if name == "gpu" and not gpus:
        raise UserError("--strategy gpu: TensorFlow sees no GPU on this machine; use --strategy cpu or auto")
    if name == "mirrored":
        devices = None if gpus else _split_cpu(CPU_REPLICAS)
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    if name == "cpu" and gpus:
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    # One device: TensorFlow's default strategy places work on the GPU when there is one, else the CPU,
    # without the per-step cost of distributing each batch that OneDeviceStrategy adds.
    return tf.distribute.get_strategy()


def describe(strategy, global_batch_size):
    """One line on what the strategy runs on and how the global batch is divided."""
    replicas = strategy.num_replicas_in_sync
    if strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        kind = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
        where = f"one device ({kind})"
    else:
        where = f"{type(strategy).__name__} on {', '.join(strategy.extended.worker_devices)}"
    return (
        f"{where}: {replicas} replica(s), "
        f"global batch {global_batch_size}, {global_batch_size // replicas} per replica"
    )
