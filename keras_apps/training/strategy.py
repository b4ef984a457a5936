"""Choosing a `tf.distribute` strategy from one flag, and saying what was found.

This must run before TensorFlow touches a device: splitting the CPU into logical devices for `mirrored`,
and starting a multi-worker cluster's server, are only possible while the runtime is still uninitialised.
"""

import glob
import json
import os
import socket

import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.training.config import STRATEGIES

CPU_REPLICAS = 2
# The highest port a TCP address has: a larger one is a typo, which the name service fails on with a traceback.
MAX_PORT = 65_535


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


def _cluster_resolver():
    """The cluster of `$TF_CONFIG`, checked here so that a mistake costs one line, not a hung worker; else SLURM's."""
    text = os.environ.get("TF_CONFIG")
    if text is None:
        if "SLURM_PROCID" in os.environ:
            return tf.distribute.cluster_resolver.SlurmClusterResolver()
        raise UserError("--strategy multi_worker needs TF_CONFIG (see \"Scaling out\" in the README) "
                        "or a SLURM job")
    try:
        tf_config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"TF_CONFIG is not valid JSON ({exc})") from None
    cluster = tf_config.get("cluster") if isinstance(tf_config, dict) else None
    task = tf_config.get("task") if isinstance(tf_config, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise UserError('TF_CONFIG has no "cluster", e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                        '"task": {"type": "worker", "index": 0}}')
    for job, addresses in cluster.items():
        if job not in ("chief", "worker"):
            raise UserError(f'TF_CONFIG names a "{job}" job; multi_worker trains with "chief" and "worker" jobs only')
        if not isinstance(addresses, list) or not addresses:
            raise UserError(f'TF_CONFIG\'s "{job}" job must be a list of "host:port" addresses')
        for address in addresses:
            host, _, port = str(address).rpartition(":")
            if not host or not (port.isascii() and port.isdigit() and int(port) <= MAX_PORT):
                raise UserError(f'TF_CONFIG\'s "{job}" job has {address!r}, which is not "host:port" (a port is '
                                f'0 to {MAX_PORT})')
    if len(cluster.get("chief", [None])) != 1:
        raise UserError(f'TF_CONFIG\'s "chief" job has {len(cluster["chief"])} addresses; a cluster has one chief '
                        '(it writes the run\'s record and exports), or none (then worker 0 does)')
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise UserError(f'TF_CONFIG\'s "task" must name this worker\'s job, one of {", ".join(cluster)}, '
                        f'e.g. {{"type": "worker", "index": 0}}')
    index = task.get("index")
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise UserError(f'TF_CONFIG\'s task index must be a whole number from 0 to '
                        f'{len(cluster[task["type"]]) - 1} for job "{task["type"]}", got {index!r}')
    _note_unresolved_hosts(cluster)
    return tf.distribute.cluster_resolver.TFConfigClusterResolver()


def _note_unresolved_hosts(cluster):
    """Says which of the cluster's hosts no name service knows: the workers wait for each one without a word, for
    ever where it is a typo. Not refused: a peer's name may be published only once it starts (Kubernetes)."""
    for job, addresses in cluster.items():
        for address in addresses:
            host, _, port = address.rpartition(":")
            try:
                socket.getaddrinfo(host.strip("[]"), int(port))
            except (socket.gaierror, UnicodeError) as exc:
                print(f"note: TF_CONFIG's \"{job}\" job has {address!r}, whose host does not resolve ({exc}); this "
                      f"worker waits for it, without end if it is misspelled (stop with Ctrl-C)", flush=True)


def _check_no_cluster(name):
    """Refuses a strategy other than `multi_worker` where `$TF_CONFIG` describes a cluster of several workers: each
    would train the whole model alone, as the chief, and export it, the cluster's work done once per worker."""
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster") or {}
        workers = sum(len(addresses) for addresses in cluster.values())
    except (ValueError, AttributeError, TypeError):
        return  # not a cluster this strategy could join: TF_CONFIG is read by multi_worker alone
    if workers > 1:
        raise UserError(f"TF_CONFIG describes a cluster of {workers} workers, but --strategy is {name}: give "
                        "--strategy multi_worker to train together, or unset TF_CONFIG to train here alone")


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def strategy_name(strategy):
    """The public name of `strategy`'s class (TensorFlow's multi-worker class calls itself a collective one)."""
    return "MultiWorkerMirroredStrategy" if is_multi_worker(strategy) else type(strategy).__name__.lstrip("_")


def worker_role(strategy):
    """`(is_chief, name)` of this process: the chief (or worker 0 of a cluster without one) writes the run's
    record and exports; every other worker trains alongside it and keeps its own files apart."""
    if not is_multi_worker(strategy):
        return True, "chief"
    resolver = strategy.cluster_resolver
    jobs = resolver.cluster_spec().jobs
    is_chief = resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                                 and "chief" not in jobs)
    return is_chief, f"{resolver.task_type}-{resolver.task_id}"


def select_strategy(name="auto"):
    """Returns the strategy for `name`, one of `STRATEGIES`.

    - `auto`: a TPU when there are signs of one (`$TPU_NAME`, or the `/dev/accel*` devices of a TPU VM) and
      it answers, else all GPUs mirrored when there are several, the one GPU when there is one, else the CPU.
    - `cpu` / `gpu`: one device of that kind (`gpu` fails in one line when there is none); a single
      device runs under TensorFlow's default strategy.
    - `mirrored`: data-parallel over all GPUs, or over two logical CPU devices on a machine without GPUs
      (useful to test distributed code paths on a laptop).
    - `multi_worker`: data-parallel over the devices of every worker of the cluster that `$TF_CONFIG`
      describes (or SLURM's job); each worker runs the same command with its own `TF_CONFIG` task.
    - `tpu`: the TPU named by `$TPU_NAME` (or the local one on a TPU VM).
    """
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if name == "tpu":
        return _tpu_strategy()
    if name == "auto" and (os.environ.get("TPU_NAME") or glob.glob("/dev/accel*")):
        try:
            return _tpu_strategy()
        except UserError as exc:
            print(f"note: {exc}; training on the GPUs or the CPU")
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=_cluster_resolver())
    _check_no_cluster(name)
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
        where = f"{strategy_name(strategy)} on {', '.join(strategy.extended.worker_devices)}"
        if is_multi_worker(strategy):
            jobs = strategy.cluster_resolver.cluster_spec().as_dict()
            workers = sum(len(addresses) for addresses in jobs.values())
            where += f" ({worker_role(strategy)[1]} of {workers} workers)"
    return (
        f"{where}: {replicas} replica(s), "
        f"global batch {global_batch_size}, {global_batch_size // replicas} per replica"
    )
