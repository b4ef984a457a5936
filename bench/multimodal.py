"""Digits seen and heard: each sense alone and each fusion, trained by `python -m tasks.multimodal` with the
default recipe on several seeds (`--repeats`), every run tested on the same 1,000 test pairs under every
condition (clean, degraded, one sense missing). The table's reading: on degraded inputs, how far the best
fusion is above the best single sense, and with one sense missing, how close a fusion stays to that sense's
own model. A test condition rests on 250 recordings, so one run's figure moves by a point or two with the seed:
the mean over seeds is what is compared."""

import statistics
import tempfile

from bench.runs import row, run_task
from tasks.multimodal import FUSION_NAMES

RUNS = {fusion: ["--fusion", fusion] for fusion in FUSION_NAMES}
# What `python -m bench`'s smoke-test flags do here: the task trains on all its pairs, so only --epochs.
LIMITS = {"--epochs": "N epochs"}


def fusion_row(name, measured):
    """The results row of the run `name` (a key of `RUNS`) from `(metrics, wall seconds)` of each seed, 0 on:
    each condition's mean accuracy over the seeds (the test accuracy: the clean one's), and each seed's; the
    means of the wall time, the training time and its speed, the most memory any seed took. Every figure of a row
    is over the same seeds: seed 0's training time beside the seeds' mean wall time showed a run whose training
    took longer than the whole command."""
    metrics = measured[0][0]
    by_seed = [run_metrics["extra"]["conditions"] for run_metrics, _ in measured]
    conditions = {condition: statistics.mean(run[condition] for run in by_seed) for condition in by_seed[0]}

    def mean(figure):
        return round(statistics.mean(run_metrics[figure] for run_metrics, _ in measured), 1)

    return row(" ".join(["python -m tasks.multimodal", *RUNS[name]]), metrics,
               test_accuracy=conditions["clean"], conditions=conditions,
               train_seconds=mean("train_seconds"), train_examples_per_second=mean("train_examples_per_second"),
               peak_memory_mb=max(run_metrics["peak_memory_mb"] for run_metrics, _ in measured),
               wall_seconds=round(statistics.mean(seconds for _, seconds in measured), 1),
               conditions_by_seed=by_seed, degradations=metrics["extra"]["degradations"],
               sense_shares=metrics["extra"]["sense_shares"])


def run(runs, repeats, limits):
    """Runs the chosen benchmarks, each on seeds 0 to `repeats` - 1; yields `(name, row)` as each ends."""
    for name in runs:
        measured = []
        for seed in range(repeats):
            with tempfile.TemporaryDirectory() as workdir:
                measured.append(run_task("multimodal", [*RUNS[name], "--seed", str(seed)], workdir, limits))
        yield f"multimodal-{name}", fusion_row(name, measured)
