"""Scaling benchmark: a task trained by one worker, then by a two-worker `MultiWorkerMirroredStrategy` cluster on
this machine (127.0.0.1), each worker pinned to its own CPU core, at the same global batch.

A row gives both runs' training examples per second (the global batch times the steps, over the time in
training steps), steady step time, and test accuracy (validation loss for GPT). Here both workers share one
machine's memory bandwidth and talk through gRPC on the loopback, so it measures what the cluster path costs
as much as what it gains; on separate machines the communication costs more and the compute does not contend.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import gpt, results
from bench.runs import figure as figure_of
from keras_apps.errors import UserError
from keras_apps.training.local_cluster import LocalCluster, pinned_to

RUNS = {
    "imdb": [],  # the default model (nb-bow) on the whole data: the accuracy band of each side is the real one
    "mnist": ["--train-examples", "20000", "--epochs", "4"],  # the default ResNet, synchronized batch norm
    # The default GPT, 200 steps; without XLA and one step per execution on both sides, as a cluster of CPU
    # workers must train, so that the comparison is of like with like.
    "gpt": ["--max-steps", "200", "--eval-interval", "100", "--warmup-steps", "20", "--no-jit-compile",
            "--steps-per-execution", "1"],
}
# What `python -m bench`'s smoke-test flags do here: GPT counts steps, so it runs a fixed short run instead.
LIMITS = {"--train-examples": "the first N training examples (gpt: a fixed 20-step run, N unused)",
          "--epochs": "N epochs (gpt: a fixed 20-step run, N unused)"}
GPT_SMOKE_TEST = [*gpt.SMOKE_TEST, "--steps-per-execution", "1"]
WORKERS_TIMEOUT = 3600


def _one_worker(task, arguments, workdir):
    """`(metrics, wall seconds)` of the task trained by one process pinned to core 0."""
    command = [sys.executable, "-m", f"tasks.{task}", *arguments, "--strategy", "cpu", "--run-dir",
               str(workdir / "one"), "--export-dir", str(workdir / "one-export")]
    print("$ " + " ".join(command[1:]), flush=True)
    start = time.perf_counter()
    if subprocess.run(command, preexec_fn=pinned_to(0)).returncode != 0:
        raise UserError(f"the one-worker run of {task} failed (its output is above)")
    return json.loads((workdir / "one" / "metrics.json").read_text()), time.perf_counter() - start


def _two_workers(task, arguments, workdir):
    """`(chief's metrics, wall seconds)` of the task trained by a cluster of two processes on cores 0 and 1."""
    command = ["-m", f"tasks.{task}", *arguments, "--strategy", "multi_worker", "--run-dir", workdir / "two",
               "--export-dir", workdir / "two-export"]
    print("$ (two workers) python " + " ".join(map(str, command)), flush=True)
    start = time.perf_counter()
    with LocalCluster(2, workdir, cpus=[0, 1]) as cluster:
        cluster.start(*command)
        statuses = cluster.wait(timeout=WORKERS_TIMEOUT)
        if statuses != [0, 0]:
            raise UserError(f"the two-worker run of {task} failed ({statuses}); chief's log ends:\n"
                            + cluster.log(0)[-2000:])
    return json.loads((workdir / "two" / "metrics.json").read_text()), time.perf_counter() - start


def scaling_row(task, arguments, one, two, wall_seconds):
    """The row of one task from the one-worker (`one`) and two-worker (`two`, the chief's) metrics."""
    (figure, one_figure), (_, two_figure) = figure_of(one), figure_of(two)
    return {
        "command": " ".join([f"python -m tasks.{task}", *arguments, "--strategy", "{cpu,multi_worker}"]),
        "task": task, "model": one["model"], "params": one["params"],
        "examples_per_second": [one["train_examples_per_second"], two["train_examples_per_second"]],
        "step_seconds": [one["train_step_seconds"], two["train_step_seconds"]],
        "figure": figure, "figures": [one_figure, two_figure],
        "wall_seconds": [round(seconds, 1) for seconds in wall_seconds],
        "scaling": round(two["train_examples_per_second"] / one["train_examples_per_second"], 2),
        "machine": results.machine(),
    }


def run(runs, repeats, limits):
    """Runs the chosen tasks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for task in runs:
        arguments = GPT_SMOKE_TEST if limits and task == "gpt" else [*RUNS[task], *limits]
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory)
            one, one_seconds = _one_worker(task, arguments, workdir)
            two, two_seconds = _two_workers(task, arguments, workdir)
        yield f"distribute-{task}", scaling_row(task, arguments, one, two, (one_seconds, two_seconds))
