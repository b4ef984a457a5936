"""What this machine is and how fast it computes: a fingerprint stored beside every measured figure.

Machines sold under one CPU name run the same TensorFlow code at speeds that differ by 2–5x (shared hosts,
other CPU flags, thread settings), so a figure without its machine cannot be compared with another. The
fingerprint names the CPU, its vector extensions, the cores and thread pools TensorFlow uses and its build,
and measures the three kinds of work the tasks spend their time in: a float32 matrix product, a ResNet-shaped
convolution forward and backward, and an XLA-compiled Transformer training step. Two figures taken on
machines whose measurements differ are told apart, and a slow machine is not mistaken for a slow commit.
"""

import os
import platform
import statistics
import time
from pathlib import Path

# The CPU extensions that decide which kernels oneDNN and XLA can use.
VECTOR_EXTENSIONS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


def _cpu():
    """`(model name, the VECTOR_EXTENSIONS it has)` from /proc/cpuinfo (the platform's name elsewhere)."""
    model, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name" and model is None:
                model = value
            elif key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return model or platform.processor() or platform.machine(), [flag for flag in VECTOR_EXTENSIONS if flag in flags]


def name():
    """The machine in a few words: cores and CPU model, e.g. "2 x AMD EPYC"."""
    return f"{os.cpu_count()} x {_cpu()[0]}"


def _median_seconds(step, repeats):
    step()  # the warm-up: tracing, compilation, first allocations
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def matmul_gflops(size=1024, repeats=10):
    """GFLOP/s of a float32 `size`×`size` matrix product (the measurement MFU divides by)."""
    from keras_apps.training.flops import matmul_flops_per_second

    return matmul_flops_per_second("float32", size, repeats) / 1e9


def convolution_milliseconds(repeats=5):
    """One forward and backward pass of a ResNet-14 block's 3x3 convolution (32 → 32 channels) on a batch of
    128 MNIST-sized 28x28 maps, float32."""
    import tensorflow as tf

    images = tf.random.stateless_normal([128, 28, 28, 32], seed=[1, 0])
    kernel = tf.Variable(tf.random.stateless_normal([3, 3, 32, 32], seed=[1, 1]) * 0.1)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(images)  # the backward pass a block inside a network computes: to its input too
            loss = tf.reduce_sum(tf.nn.conv2d(images, kernel, strides=1, padding="SAME") ** 2)
        return tape.gradient(loss, [kernel, images])

    return 1000 * _median_seconds(lambda: [g.numpy() for g in step()], repeats)


def transformer_step_milliseconds(repeats=5):
    """One XLA-compiled training step of a pre-norm Transformer decoder block of nanoGPT's CPU recipe (width 128,
    4 heads, 64 tokens, batch 12), float32; `None` where XLA cannot compile it."""
    import keras
    import keras_hub
    import tensorflow as tf

    block = keras_hub.layers.TransformerDecoder(intermediate_dim=512, num_heads=4, normalize_first=True)
    tokens = tf.random.stateless_normal([12, 64, 128], seed=[2, 0])
    block(tokens)
    optimizer = keras.optimizers.AdamW(1e-3)

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(block(tokens, training=True) ** 2)
        gradients = tape.gradient(loss, block.trainable_variables)
        optimizer.apply_gradients(zip(gradients, block.trainable_variables))
        return loss

    try:
        return 1000 * _median_seconds(lambda: step().numpy(), repeats)
    except tf.errors.OpError:
        return None


# What `fingerprint` can measure, by the name it records the figure under.
SPEEDS = {
    "matmul_gflops": matmul_gflops,
    "convolution_ms": convolution_milliseconds,
    "transformer_step_ms": transformer_step_milliseconds,
}


def _threads(configured, pool):
    """A thread pool's size as set in this process, else by `TF_NUM_<pool>_THREADS` (which TensorFlow reads but
    `tf.config.threading` does not report), else "default" (one thread a core)."""
    return configured or int(os.environ.get(f"TF_NUM_{pool}_THREADS") or 0) or "default"


def fingerprint(speeds=tuple(SPEEDS)):
    """The machine's description and the `speeds` named (all three, ~10 s on a 2-core CPU; the matmul alone
    takes a fraction of a second, what every training run records)."""
    import tensorflow as tf

    model, extensions = _cpu()
    result = {
        "name": name(), "cpu": model, "cores": os.cpu_count(), "vector_extensions": extensions,
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "tensorflow": tf.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0",
        "threads": {"intra_op": _threads(tf.config.threading.get_intra_op_parallelism_threads(), "INTRAOP"),
                    "inter_op": _threads(tf.config.threading.get_inter_op_parallelism_threads(), "INTEROP")},
    }
    for speed in speeds:
        value = SPEEDS[speed]()
        result[speed] = None if value is None else round(value, 1)
    return result
