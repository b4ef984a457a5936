"""IMDB benchmarks: each model's default recipe on the full data, scored on all 25,000 test reviews.

`bert` is the whole story in one command: masked-LM pre-training on the reviews, then fine-tuning. Its
backbone is kept in `BACKBONE`, so that `bert-finetune` (fine-tuning alone, from that backbone) can be rerun
without pre-training again. `bert-from-scratch` is the same classifier and fine-tuning recipe without
pre-training: the control. Each row records the command's wall time (for `bert`: vocabulary, pre-training,
fine-tuning and the test set).
"""

import tempfile
from pathlib import Path

from bench.runs import row, run_task
from keras_apps import files
from keras_apps.errors import UserError
from tasks import imdb as task

BACKBONE = Path("saved_models/imdb-bert-backbone")
# What `python -m bench`'s smoke-test flags do here.
LIMITS = {"--train-examples": "N training reviews", "--epochs": "N epochs (bert: of fine-tuning)"}
RUNS = {
    **{model: [] if model == task.DEFAULT_MODEL else ["--model", model] for model in task.RECIPES},
    "bert-finetune": ["--model", "bert", "--pretrained-backbone", str(BACKBONE)],
    "bert-from-scratch": ["--model", "bert", "--from-scratch"],
}


def bench_run(name, limits):
    if name == "bert-finetune" and not BACKBONE.is_dir():
        raise UserError(f"bert-finetune needs the backbone the bert run saves in {BACKBONE}: run bert first")
    with tempfile.TemporaryDirectory() as workdir:
        metrics, wall_seconds = run_task("imdb", RUNS[name], workdir, limits)
        if name == "bert" and not limits:
            files.replace_folder(Path(workdir) / "run" / "backbone", BACKBONE)  # the last one kept till then
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
