"""GPT benchmarks on Tiny Shakespeare: nanoGPT's CPU recipe side by side, the default model, and the speed
of cached against uncached sampling.

`nanogpt-cpu` runs nanoGPT's published CPU recipe (4 layers, 4 heads, width 128, context 64, batch 12, 2,000
steps, no dropout, lr 1e-3 → 1e-4 cosine, 100 warm-up steps, beta2 0.99) through our task; nanoGPT itself
(PyTorch) reached validation loss 1.886 in 144 s of wall time on the 2-core AMD EPYC machine of issue 5. Our
wall time is the whole command: start-up, data, training, the full validation split, samples and the export.
Our validation loss is measured on the whole validation split (nanoGPT estimates it from 20 random batches).
The recipe runs once for each of `NANOGPT_CPU_SEEDS` seeds: from seed to seed its loss moves by about ±0.01,
more than the differences this comparison is about, so one run says little. The row gives the mean, each
seed's loss, and the mean and slowest wall time.

`default` runs `python -m tasks.gpt`, then times 256 new tokens from its exported model, greedy, with the
key/value cache and without it (every step re-reading the prefix), each inside a `tf.function`, median of
three after a warm-up call.
"""

import json
import math
import statistics
import tempfile
import time
from pathlib import Path

from bench import results
from bench.runs import run_task

NANOGPT_CPU_RESULT = {"validation_loss": 1.886, "wall_seconds": 144}  # issue 5, on a 2-core AMD EPYC
RUNS = {"nanogpt-cpu": ["--recipe", "nanogpt-cpu"], "default": []}
NANOGPT_CPU_SEEDS = 10
# What `python -m bench gpt --epochs N` or `--train-examples N` (a smoke test, never recorded) runs instead.
SMOKE_TEST = ["--max-steps", "20", "--eval-interval", "10", "--eval-batches", "2", "--warmup-steps", "2",
              "--no-jit-compile", "--sample-tokens", "20"]  # 20 steps do not repay XLA's compilation
SAMPLING_TOKENS = 256
SMOKE_SAMPLING_TOKENS = 32


def sampling_tokens_per_second(model_path, new_tokens=SAMPLING_TOKENS, repeats=3):
    """`{True: cached, False: uncached}` tokens per second of greedy generation from a one-token prompt."""
    import keras
    import tensorflow as tf

    from keras_apps.inference.text_generation import TextGenerator, build_sampler

    model = keras.saving.load_model(model_path)
    generator = TextGenerator(model, build_sampler("greedy", model.output_shape[-1]))
    speeds = {}
    for use_cache in (True, False):
        generate = tf.function(lambda prompt: generator.generate(prompt, new_tokens, use_cache=use_cache))
        prompt = tf.constant([1], tf.int32)
        generate(prompt).numpy()
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            generate(prompt).numpy()
            seconds.append(time.perf_counter() - start)
        speeds[use_cache] = new_tokens / statistics.median(seconds)
    return speeds


def gpt_row(name, metrics, wall_seconds, **extra):
    """A results row for `python -m tasks.gpt` with run `name`'s arguments, from the run's `metrics.json`."""
    return {
        "command": " ".join(["python -m tasks.gpt", *RUNS[name]]), "model": metrics["model"],
        "params": metrics["params"], "steps": metrics["steps"],
        "validation_loss": metrics["validation"]["loss"], "validation_perplexity": metrics["validation"]["perplexity"],
        "train_seconds": metrics["train_seconds"], "wall_seconds": round(wall_seconds, 1),
        "train_tokens_per_second": metrics["train_tokens_per_second"], "mfu": metrics["extra"]["mfu"],
        "peak_memory_mb": metrics["peak_memory_mb"], "machine": results.machine(), **extra,
    }


def bench_default(limits):
    """The default model, then the speed of sampling from its export with and without the cache."""
    with tempfile.TemporaryDirectory() as workdir:
        metrics, wall_seconds = run_task("gpt", RUNS["default"], workdir, SMOKE_TEST if limits else [])
        export = json.loads((Path(workdir) / "export" / "1" / "export.json").read_text())
        new_tokens = SMOKE_SAMPLING_TOKENS if limits else SAMPLING_TOKENS
        speeds = sampling_tokens_per_second(Path(workdir) / "export" / "1" / "model.keras", new_tokens,
                                            repeats=1 if limits else 3)
    return gpt_row(
        "default", metrics, wall_seconds,
        sampling_new_tokens=new_tokens, sampling_context_length=export["model"]["context_length"],
        sampling_tokens_per_second_cached=round(speeds[True], 1),
        sampling_tokens_per_second_uncached=round(speeds[False], 1),
        sampling_cache_speedup=round(speeds[True] / speeds[False], 2),
    )


def bench_nanogpt_cpu(limits):
    """nanoGPT's recipe once per seed: the mean validation loss and wall time, and every seed's loss."""
    runs = []
    for seed in range(2 if limits else NANOGPT_CPU_SEEDS):
        with tempfile.TemporaryDirectory() as workdir:
            runs.append(run_task("gpt", [*RUNS["nanogpt-cpu"], "--seed", str(seed)], workdir,
                                 SMOKE_TEST if limits else []))
    losses = [metrics["validation"]["loss"] for metrics, _ in runs]
    walls = [wall_seconds for _, wall_seconds in runs]
    mean_loss = statistics.fmean(losses)
    return gpt_row(
        "nanogpt-cpu", runs[0][0], statistics.fmean(walls),
        validation_loss=mean_loss, validation_perplexity=math.exp(mean_loss),
        validation_loss_seeds=[round(loss, 4) for loss in losses], validation_loss_stdev=statistics.stdev(losses),
        train_seconds=statistics.fmean(metrics["train_seconds"] for metrics, _ in runs),
        wall_seconds_max=round(max(walls), 1),
        nanogpt_validation_loss=NANOGPT_CPU_RESULT["validation_loss"],
        nanogpt_wall_seconds=NANOGPT_CPU_RESULT["wall_seconds"],
    )


def bench_run(name, limits):
    return bench_default(limits) if name == "default" else bench_nanogpt_cpu(limits)


def run(runs, repeats, limits):
    """Runs the chosen benchmarks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for name in runs:
        yield f"gpt-{name}", bench_run(name, limits)
