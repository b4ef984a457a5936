"""Digits seen and heard: each sense alone and each fusion, trained by `python -m tasks.multimodal` with the
default recipe, every row tested on the same 1,000 test pairs under every condition (clean, degraded, one sense
missing). The table's reading: on degraded inputs, how far the best fusion is above the best single sense, and
with one sense missing, how close a fusion stays to that sense's own model."""

import tempfile

from bench.runs import row, run_task
from tasks.multimodal import FUSION_NAMES

RUNS = {fusion: ["--fusion", fusion] for fusion in FUSION_NAMES}


def run(runs, repeats, limits):
    """Runs the chosen benchmarks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for name in runs:
        with tempfile.TemporaryDirectory() as workdir:
            metrics, wall_seconds = run_task("multimodal", RUNS[name], workdir, limits)
        yield f"multimodal-{name}", row(" ".join(["python -m tasks.multimodal", *RUNS[name]]), metrics,
                                        wall_seconds=round(wall_seconds, 1), conditions=metrics["extra"]["conditions"],
                                        degradations=metrics["extra"]["degradations"],
                                        sense_shares=metrics["extra"]["sense_shares"])
