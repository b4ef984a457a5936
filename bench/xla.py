"""XLA benchmark: each task's default model trained with `--no-jit-compile` and with `--jit-compile`, compared
by the steady time of a training step (`train_step_seconds` of `metrics.json`: the median over the steps after
the first ten, which trace and compile the step; validation and everything around training left out).

The runs are short but keep what sets the step time: the default model, batch size, precision and inputs.
MNIST and GPT train on fewer examples or steps; IMDB and translation keep all their training data, because
their `--train-examples` and `--train-pairs` would change the step (a smaller n-gram or WordPiece vocabulary;
translation's first pairs are its shortest sentences).

A model that XLA cannot compile is recorded as such: IMDB's `nb-bow` reads sparse n-gram features, for which
XLA has no kernels, so the runner trains it without XLA and says so.
"""

import json
import tempfile
from pathlib import Path

from bench import results
from bench.runs import run_task

RUNS = {
    "mnist": ["--train-examples", "20000", "--epochs", "1"],  # 140 steps of the ResNet
    "imdb": ["--epochs", "2"],  # 350 steps of nb-bow over the whole vocabulary
    "translate": ["--epochs", "1", "--test-sentences", "100"],  # one epoch (about 790 steps); short scoring
    "gpt": ["--max-steps", "100", "--eval-interval", "50", "--warmup-steps", "10"],  # 10 calls of 10 steps
}
# What `python -m bench xla --epochs N` or `--train-examples N` (a smoke test, never recorded) runs instead:
# about 20 steps after the warm-up each.
SMOKE_TEST = {
    "mnist": ["--train-examples", "4000", "--epochs", "1"],
    "imdb": ["--train-examples", "4000", "--epochs", "1", "--test-examples", "500"],
    "translate": ["--train-pairs", "4000", "--epochs", "1", "--test-sentences", "20"],
    "gpt": ["--max-steps", "40", "--eval-interval", "20", "--eval-batches", "2", "--warmup-steps", "2"],
}
LIMITS = dict.fromkeys(["--train-examples", "--epochs"], "a fixed short run of each task (N unused)")
FLAGS = {False: "--no-jit-compile", True: "--jit-compile"}


def timed_run(task, arguments):
    """`(metrics, batch size)` of one run of `python -m tasks.<task> arguments`."""
    with tempfile.TemporaryDirectory() as workdir:
        metrics, _ = run_task(task, arguments, workdir, [])
        config = json.loads((Path(workdir) / "run" / "config.json").read_text())
    return metrics, config["batch_size"]


def comparison_row(task, arguments, plain, compiled, batch_size):
    """The row of one task: the steady step time of its run without XLA (`plain` metrics) and with it
    (`compiled` metrics, None when XLA could not compile the model)."""
    command = " ".join([f"python -m tasks.{task}", *arguments])
    plain_seconds = plain["train_step_seconds"]
    compiled_seconds = compiled["train_step_seconds"] if compiled else None
    return {
        "command": command, "task": task, "model": plain["model"], "params": plain["params"],
        "batch_size": batch_size, "step_seconds": plain_seconds, "xla_step_seconds": compiled_seconds,
        "xla_compiled": compiled is not None,
        "xla_speedup": round(plain_seconds / compiled_seconds, 2) if plain_seconds and compiled_seconds else None,
        "machine": results.machine(),
    }


def bench_task(task, limits):
    arguments = SMOKE_TEST[task] if limits else RUNS[task]
    plain, batch_size = timed_run(task, [*arguments, FLAGS[False]])
    compiled, _ = timed_run(task, [*arguments, FLAGS[True]])
    if not compiled["jit_compile"]:  # the runner left XLA out, and its output above says why
        compiled = None
    return comparison_row(task, arguments, plain, compiled, batch_size)


def run(runs, repeats, limits):
    """Runs the chosen tasks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for task in runs:
        yield f"xla-{task}", bench_task(task, limits)
