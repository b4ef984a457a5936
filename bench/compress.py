"""Compression benchmarks: a task's model trained and exported as a user does, then
`python -m tasks.<task> compress` on the whole test set (GPT: the whole validation split); every variant's row
is recorded.

    mnist              the ResNet: Keras int8, LiteRT, pruning, distillation (about 25 minutes on a 2-core CPU:
                       13 of training; pruning, distillation with three seeds)
    imdb               the default n-gram network: Keras int8 and LiteRT (about two minutes)
    imdb-transformer   the Transformer, the same variants (about 25 minutes, 18 of training)
    gpt                the default GPT: bfloat16, Keras int8 and int4, GPTQ, AWQ, each with its decoding speed
                       at batch 1 and 64 (about 25 minutes, 13 of training)
    gpt-lora, bert-lora   fine-tuning through LoRA adapters against training every weight (`bench.lora`)
"""

import json
import tempfile
import time
from pathlib import Path

from bench import gpt, lora, results
from bench.runs import python, run_task

# Each run: the task, and the flags of its training command.
RUNS = {"mnist": ("mnist", []), "imdb": ("imdb", []), "imdb-transformer": ("imdb", ["--model", "transformer"]),
        "gpt": ("gpt", [])}
# A smoke test (`--train-examples`): tiny training and fine-tuning, one student, on a slice of the test set.
SMOKE_TEST = {
    "mnist": ["--train-examples", "512", "--test-examples", "1000", "--prune-epochs", "1", "--distill-seeds", "1",
              "--student-epochs", "1"],
    "imdb": ["--test-examples", "1000"],
    "gpt": ["--decoding-tokens", "8", "--calibration-windows", "4"],
}


def bench_task(task, training, limits):
    """Trains the task's model with the `training` flags, compresses the export, returns the result with every
    variant's row."""
    if limits and task == "gpt":
        limits = gpt.SMOKE_TEST  # a GPT counts steps, not examples or epochs
    with tempfile.TemporaryDirectory() as workdir:
        metrics, train_wall_seconds = run_task(task, training, workdir, limits)
        report = Path(workdir) / "compress"
        start = time.perf_counter()
        python(["-m", f"tasks.{task}", "compress", "--export-dir", metrics["export"], "--run-dir", str(report),
                *(SMOKE_TEST[task] if limits else [])])
        compress_wall_seconds = time.perf_counter() - start
        variants = json.loads((report / "compression.json").read_text())
        title = (report / "compression.md").read_text().splitlines()[0].removeprefix("### ")
    return {
        "command": " ".join(["python -m tasks." + task, *training]) + f" && python -m tasks.{task} compress",
        "task": task,
        "model": metrics["model"],
        "title": f"{title}, {metrics['model']}",
        "train_wall_seconds": round(train_wall_seconds, 1),
        "compress_wall_seconds": round(compress_wall_seconds, 1),
        "machine": results.machine(),
        "variants": variants,
    }


def run(runs, repeats, limits):
    """Yields `(name, result)` for each run in `runs` (`repeats` is unused: seeds are the compress flag's)."""
    for name in runs:
        if name in lora.RUNS:
            yield from lora.run([name], limits)
        else:
            task, training = RUNS[name]
            yield f"compress-{name}", bench_task(task, training, limits)
