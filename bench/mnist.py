"""MNIST benchmarks: each model's default recipe on the full data, and our runner against plain Keras.

Every configuration runs in a fresh process (so peak memory is its own) through the same command a user
types, and its figures are read back from the run's `metrics.json`.
"""

import json
import statistics
import tempfile
from pathlib import Path

from bench.runs import python, row, run_task
from tasks import mnist as task

SIDE_BY_SIDE = dict(epochs=5, batch_size=128, learning_rate=1e-3)
SIDE_BY_SIDE_RUN = "vs-plain-keras"
# What `python -m bench`'s smoke-test flags do here (both sides of the side-by-side run alike).
LIMITS = {"--train-examples": "the first N training images", "--epochs": "N epochs"}


def bench_model(model, limits):
    """The model's default recipe, exactly as `python -m tasks.mnist [--model M]` runs it."""
    arguments = [] if model == task.DEFAULT_MODEL else ["--model", model]
    with tempfile.TemporaryDirectory() as workdir:
        metrics, _ = run_task("mnist", arguments, workdir, limits)
    return row(" ".join(["python -m tasks.mnist", *arguments]), metrics)


def bench_side_by_side(limits, repeats):
    """The classic convnet trained by our runner and by plain Keras, alternating, `repeats` times each.

    Same network, optimizer (AdamW, constant rate), batch, epochs and validation split, no augmentation.
    The ratio is ours over plain Keras of training examples per second over whole `fit` calls (validation
    and callbacks included), medians of the repeats; the ratio of training-step throughput alone (the
    `train_examples_per_second` of both) is recorded beside it.
    """
    settings = [f"--{name.replace('_', '-')}={value}" for name, value in SIDE_BY_SIDE.items()]
    ours_arguments = ["--model", "convnet", "--no-augment", "--lr-schedule", "constant", *settings]
    ours, plain = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as workdir:
            metrics, _ = run_task("mnist", ours_arguments, workdir, limits)
        ours.append(metrics)
        with tempfile.TemporaryDirectory() as workdir:
            output = Path(workdir) / "plain_keras.json"
            python(["-m", "bench.plain_keras", *settings, *limits, "--output", str(output)])
            plain.append(json.loads(output.read_text()))
    def median(runs, rate):
        return statistics.median(rate(run) for run in runs)

    def whole_fit(run):
        return run["train_examples"] / run["train_seconds"]

    def steps_only(run):
        return run["train_examples_per_second"]

    middle = sorted(ours, key=whole_fit)[len(ours) // 2]
    result = row(" ".join(["python -m tasks.mnist", *ours_arguments]), middle)
    result.update(
        plain_keras_test_accuracy=median(plain, lambda run: run["test"]["accuracy"]),
        throughput_ratio_vs_plain_keras=median(ours, whole_fit) / median(plain, whole_fit),
        step_throughput_ratio_vs_plain_keras=median(ours, steps_only) / median(plain, steps_only),
        repeats=repeats,
    )
    return result


def run(runs, repeats, limits):
    """Runs the chosen benchmarks (model names and/or `SIDE_BY_SIDE_RUN`); yields `(name, row)` as each ends."""
    for name in runs:
        if name == SIDE_BY_SIDE_RUN:
            yield "mnist-convnet-vs-plain-keras", bench_side_by_side(limits, repeats)
        else:
            yield f"mnist-{name}", bench_model(name, limits)
