"""Written-out Transformer blocks against keras-hub's: each Transformer model of the suite trained with
`--blocks keras-hub` and with `--blocks explained` (`keras_apps.models.attention_explained`), the same recipe
and seed, compared by what it reaches and by its steady training-step time.

The two compute the same function (the equivalence tests prove it given the same weights), but they start
from different random weights (the layers draw them in another order), so their figures agree within the
run-to-run noise of each task rather than exactly. The runs are short: one IMDB epoch, one translation epoch
scored on 1,000 test sentences, and nanoGPT's CPU recipe.
"""

import tempfile

from bench import results
from bench.runs import figure, run_task

RUNS = {
    "imdb": ["--model", "transformer", "--epochs", "1"],
    "translate": ["--epochs", "1", "--test-sentences", "1000"],
    "gpt": ["--recipe", "nanogpt-cpu"],
}
# What `python -m bench blocks --epochs N` or `--train-examples N` (a smoke test, never recorded) runs instead.
SMOKE_TEST = {
    "imdb": ["--model", "transformer", "--train-examples", "2000", "--unlabeled-examples", "2000", "--epochs", "1",
             "--test-examples", "500"],
    "translate": ["--train-pairs", "2000", "--epochs", "1", "--test-sentences", "20"],
    "gpt": ["--recipe", "nanogpt-cpu", "--max-steps", "20", "--eval-interval", "10", "--eval-batches", "2",
            "--warmup-steps", "2", "--sample-tokens", "20"],
}
LIMITS = dict.fromkeys(["--train-examples", "--epochs"], "a fixed short run of each task (N unused)")
BLOCKS = ("keras-hub", "explained")


def comparison_row(task, arguments, library, written):
    """The row of one task from the metrics of its keras-hub run (`library`) and its written-out run."""
    (name, library_figure), (_, written_figure) = figure(library), figure(written)
    if library["params"] != written["params"]:
        raise ValueError(f"{task}: the two models differ in size ({library['params']:,} and "
                         f"{written['params']:,} parameters); they must be the same network")
    library_step, written_step = library["train_step_seconds"], written["train_step_seconds"]
    return {
        "command": " ".join([f"python -m tasks.{task}", *arguments, "--blocks", "{keras-hub,explained}"]),
        "task": task, "model": library["model"], "params": library["params"],
        "figure": name, "figures": [library_figure, written_figure],
        "step_seconds": [library_step, written_step],
        "blocks_step_ratio": round(written_step / library_step, 2) if library_step and written_step else None,
        "train_seconds": [library["train_seconds"], written["train_seconds"]],
        "machine": results.machine(),
    }


def bench_task(task, limits):
    arguments = SMOKE_TEST[task] if limits else RUNS[task]
    metrics = []
    for blocks in BLOCKS:
        with tempfile.TemporaryDirectory() as workdir:
            metrics.append(run_task(task, [*arguments, "--blocks", blocks], workdir, [])[0])
    return comparison_row(task, arguments, *metrics)


def run(runs, repeats, limits):
    """Runs the chosen tasks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for task in runs:
        yield f"blocks-{task}", bench_task(task, limits)
