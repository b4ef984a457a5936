"""Running a task the way a user does, in a fresh process, and turning its `metrics.json` into a result row."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import results
from keras_apps.errors import UserError

# Where a benchmark keeps what outlives one command (nanoGPT's PyTorch, an interrupted pipeline's work): the user's
# cache, not the repository and not a temporary folder a reboot may empty.
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "keras-apps"


def python(arguments):
    """Runs `python arguments…` with its output shown as it comes; returns its wall time in seconds."""
    print("$ python " + " ".join(arguments), flush=True)
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, *arguments])
    if completed.returncode != 0:
        raise UserError(f"benchmark command failed with exit status {completed.returncode}: "
                        f"python {' '.join(arguments)}")
    return time.perf_counter() - start


def run_task(task, arguments, workdir, limits):
    """Runs `python -m tasks.<task> arguments` with its outputs in `workdir`; returns `(metrics, wall seconds)`."""
    run_dir = Path(workdir) / "run"
    wall_seconds = python(["-m", f"tasks.{task}", *arguments, *limits, "--run-dir", str(run_dir),
                           "--export-dir", str(Path(workdir) / "export")])
    return json.loads((run_dir / "metrics.json").read_text()), wall_seconds


def row(command, metrics, **extra):
    """A results row: the command that reproduces it and what its run measured."""
    return {
        "command": command, "model": metrics["model"], "params": metrics["params"], "epochs": metrics["epochs"],
        "test_accuracy": metrics["test"]["accuracy"], "train_seconds": metrics["train_seconds"],
        "train_examples_per_second": metrics["train_examples_per_second"],
        "peak_memory_mb": metrics["peak_memory_mb"], "machine": results.machine(), **extra,
    }


def figure(metrics):
    """What a run reached, `(name, value)`: test accuracy for a classifier, BLEU for a translator, validation
    loss for a language model."""
    test = metrics.get("test") or {}
    if "accuracy" in test:
        return "test accuracy", test["accuracy"]
    if "bleu" in test:
        return "test BLEU", test["bleu"]
    return "validation loss", metrics["validation"]["loss"]
