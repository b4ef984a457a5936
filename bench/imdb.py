"""IMDB benchmarks: each model's default recipe on the full data, scored on all 25,000 test reviews.

`bert` is the whole story in one command (masked-LM pre-training on the reviews, then fine-tuning);
`bert-from-scratch` is the same classifier and fine-tuning recipe without pre-training, the control.
Each row records the command's wall time, which for `bert` includes pre-training and the vocabulary.
"""

import tempfile

from bench.runs import row, run_task
from tasks import imdb as task

RUNS = {
    **{model: [] if model == task.DEFAULT_MODEL else ["--model", model] for model in task.RECIPES},
    "bert-from-scratch": ["--model", "bert", "--from-scratch"],
}


def bench_run(name, limits):
    with tempfile.TemporaryDirectory() as workdir:
        metrics, wall_seconds = run_task("imdb", RUNS[name], workdir, limits)
    extra = {"wall_seconds": round(wall_seconds, 1)}
    pretraining = metrics.get("extra", {}).get("pretraining", {})
    if pretraining.get("masked_accuracy") is not None:
        extra.update(
            pretraining_masked_accuracy=pretraining["masked_accuracy"],
            pretraining_seconds=pretraining["train_seconds"],
            pretraining_epochs=pretraining["epochs"],
        )
    return row(" ".join(["python -m tasks.imdb", *RUNS[name]]), metrics, **extra)


def run(runs, repeats, limits):
    """Runs the chosen benchmarks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for name in runs:
        yield f"imdb-{name}", bench_run(name, limits)
