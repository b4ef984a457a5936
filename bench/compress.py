"""Compression benchmarks: each task's default model trained and exported as a user does, then
`python -m tasks.<task> compress` on the full test set; every variant's row is recorded.

The MNIST run takes about 25 minutes on a 2-core CPU (the ResNet's training, 13; pruning, distillation with
three seeds); IMDB's about two.
"""

import json
import tempfile
import time
from pathlib import Path

from bench import results
from bench.runs import python, run_task

RUNS = ("mnist", "imdb")
# A smoke test (`--train-examples`): tiny fine-tuning and one student, on a slice of the test set.
SMOKE_TEST = {
    "mnist": ["--train-examples", "512", "--test-examples", "1000", "--prune-epochs", "1", "--distill-seeds", "1",
              "--student-epochs", "1"],
    "imdb": ["--test-examples", "1000"],
}


def bench_task(task, limits):
    """Trains the task's default model, compresses the export, returns the result with every variant's row."""
    with tempfile.TemporaryDirectory() as workdir:
        metrics, train_wall_seconds = run_task(task, [], workdir, limits)
        report = Path(workdir) / "compress"
        start = time.perf_counter()
        python(["-m", f"tasks.{task}", "compress", "--export-dir", metrics["export"], "--run-dir", str(report),
                *(SMOKE_TEST[task] if limits else [])])
        compress_wall_seconds = time.perf_counter() - start
        variants = json.loads((report / "compression.json").read_text())
        title = (report / "compression.md").read_text().splitlines()[0].removeprefix("### ")
    return {
        "command": f"python -m tasks.{task} && python -m tasks.{task} compress",
        "model": metrics["model"],
        "title": f"{title}, {metrics['model']}",
        "train_wall_seconds": round(train_wall_seconds, 1),
        "compress_wall_seconds": round(compress_wall_seconds, 1),
        "machine": results.machine(),
        "variants": variants,
    }


def run(runs, repeats, limits):
    """Yields `(name, result)` for each task in `runs` (`repeats` is unused: seeds are the compress flag's)."""
    for task in runs:
        yield f"compress-{task}", bench_task(task, limits)
