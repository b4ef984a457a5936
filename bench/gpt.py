"""GPT benchmarks on Tiny Shakespeare: nanoGPT's CPU recipe side by side with nanoGPT itself, the default
model, and the speed of cached against uncached sampling.

`nanogpt-cpu` runs nanoGPT's published CPU recipe (4 layers, 4 heads, width 128, context 64, batch 12, 2,000
steps, no dropout, lr 1e-3 → 1e-4 cosine, 100 warm-up steps, beta2 0.99) through our task, once per seed
(`--repeats` seeds, 0, 1, …): from seed to seed its loss moves by about ±0.01, more than the differences this
comparison is about. With `--nanogpt DIR` (a checkout of karpathy/nanoGPT), nanoGPT's own `train.py` runs the
same recipe after each of ours, on the same seed, the same machine and the same text (`bench.nanogpt`). Both
losses are measured on the whole validation split; both wall times are whole processes (ours: start-up, data,
training, the full validation split, samples and the export; nanoGPT's: its `train.py`). The row gives the
means, each seed's loss, and the ratio of the wall times.

`default` runs `python -m tasks.gpt`, then times 256 new tokens from its exported model, greedy, with the
key/value cache and without it (every step re-reading the prefix), each inside a `tf.function`, median of
three after a warm-up call.
"""
import json
import math
import statistics
import tempfile
from pathlib import Path

from bench import nanogpt, results
from bench.runs import run_task

RUNS = {"nanogpt-cpu": ["--recipe", "nanogpt-cpu"], "default": []}
# What `python -m bench gpt --epochs N` or `--train-examples N` (a smoke test, never recorded) runs instead.
SMOKE_TEST = ["--max-steps", "20", "--eval-interval", "10", "--eval-batches", "2", "--warmup-steps", "2",
              "--no-jit-compile", "--sample-tokens", "20"]  # 20 steps do not repay XLA's compilation
# `python -m bench`'s smoke-test flags here: either runs `SMOKE_TEST`, whatever its number.
LIMITS = dict.fromkeys(["--train-examples", "--epochs"], "a fixed 20-step run (N unused: a GPT counts steps)")
SAMPLING_TOKENS = 256
SMOKE_SAMPLING_TOKENS = 32


def sampling_tokens_per_second(model_path, new_tokens=SAMPLING_TOKENS, repeats=3):
    """`{True: cached, False: uncached}` tokens per second of greedy generation from a one-token prompt."""
    import keras

    from keras_apps.inference.text_generation import decoding_tokens_per_second

    model = keras.saving.load_model(model_path)
    return {use_cache: decoding_tokens_per_second(model, new_tokens, repeats, use_cache) for use_cache in (True, False)}


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


def bench_nanogpt_cpu(limits, seeds, nanogpt_checkout=None):
    """nanoGPT's recipe once per seed, and nanoGPT itself after each when `nanogpt_checkout` is given."""
    ours, theirs = [], []
    for seed in range(seeds):
        with tempfile.TemporaryDirectory() as workdir:
            ours.append(run_task("gpt", [*RUNS["nanogpt-cpu"], "--seed", str(seed)], workdir,
                                 SMOKE_TEST if limits else []))
        if nanogpt_checkout is not None:
            with tempfile.TemporaryDirectory() as workdir:
                theirs.append(nanogpt.train(nanogpt_checkout, _tiny_shakespeare(workdir), seed, workdir,
                                            smoke_test=bool(limits)))
    return nanogpt_cpu_row(ours, theirs)


def _tiny_shakespeare(workdir):
    """The text our task reads by default, written to `workdir` for nanoGPT."""
    from keras_apps.data.text_corpus import load_corpus

    path = Path(workdir) / "input.txt"
    path.write_text(load_corpus(), encoding="utf-8")
    return path


def nanogpt_cpu_row(ours, theirs):
    """The row of `ours` (`(metrics, wall seconds)` per seed) and of nanoGPT's runs on the same seeds (none when
    it did not run)."""
    losses = [metrics["validation"]["loss"] for metrics, _ in ours]
    walls = [wall_seconds for _, wall_seconds in ours]
    mean_loss = statistics.fmean(losses)
    row = gpt_row(
        "nanogpt-cpu", ours[0][0], statistics.fmean(walls),
        validation_loss=mean_loss, validation_perplexity=math.exp(mean_loss),
        validation_loss_seeds=[round(loss, 4) for loss in losses],
        validation_loss_stdev=statistics.stdev(losses) if len(losses) > 1 else None,
        train_seconds=statistics.fmean(metrics["train_seconds"] for metrics, _ in ours),
        wall_seconds_max=round(max(walls), 1), time=ours[0][0]["time"],
    )
    if theirs:
        their_walls = [run["wall_seconds"] for run in theirs]
        row.update(
            nanogpt_validation_loss=statistics.fmean(run["validation_loss"] for run in theirs),
            nanogpt_validation_loss_seeds=[round(run["validation_loss"], 4) for run in theirs],
            nanogpt_wall_seconds=round(statistics.fmean(their_walls), 1),
            nanogpt_wall_seconds_seeds=[round(wall, 1) for wall in their_walls],
            wall_ratio_vs_nanogpt=round(statistics.fmean(walls) / statistics.fmean(their_walls), 2),
        )
    return row


def run(runs, repeats, limits, nanogpt_checkout=None):
    """Runs the chosen benchmarks; yields `(name, row)` as each ends (`repeats`: nanogpt-cpu's seeds)."""
    for name in runs:
        if name == "default":
            yield "gpt-default", bench_default(limits)
        else:
            yield "gpt-nanogpt-cpu", bench_nanogpt_cpu(limits, repeats, nanogpt_checkout)
