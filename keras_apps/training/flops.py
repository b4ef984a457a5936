"""How fast this machine multiplies matrices: the ceiling that model FLOPs utilization (MFU) is a share of.

nanoGPT divides its model's FLOP/s by an A100's data-sheet peak. A CPU's peak depends on its cores, vector
units and clock, which no data sheet here gives, so we measure the ceiling instead: the FLOP/s of a large
matrix product in the model's compute dtype, the best case of the very kernels a Transformer spends its time in.
"""

import time

import tensorflow as tf


def matmul_flops_per_second(dtype="float32", size=2048, repeats=10):
    """FLOP/s of a `size`×`size` matrix product in `dtype` (the model's compute dtype: bfloat16 runs
    faster), best of `repeats` timed runs after a warm-up."""
    a = tf.cast(tf.random.stateless_normal([size, size], seed=[0, 0]), dtype)
    b = tf.cast(tf.random.stateless_normal([size, size], seed=[0, 1]), dtype)
    multiply = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    multiply().numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        multiply().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def model_flops_utilization(flops_per_token, tokens_per_second, compute_dtype):
    """nanoGPT's figures: training FLOPs per token, the model's FLOP/s, and their share (MFU) of this machine's
    measured matrix-product FLOP/s in the model's compute dtype."""
    model_flops = flops_per_token * tokens_per_second
    peak_flops = matmul_flops_per_second(compute_dtype)
    return {"flops_per_token": flops_per_token, "model_flops_per_second": model_flops,
            "matmul_flops_per_second": peak_flops, "mfu": model_flops / peak_flops}
