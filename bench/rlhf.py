"""Preference tuning measured as the DPO paper measures it (its §6.1 and Figure 2): `python -m tasks.rlhf`, the
whole pipeline with its defaults in a work folder, and what each stage reached: the SFT model's validation
loss, the reward model's agreement with the raters on pairs of test reviews, the test accuracy of the classifier
the policies are tuned against and of the judge, and the reward–KL frontier on held-out prompts (the judge's
P(positive), the classifier's log-odds and the KL to the SFT model) of the SFT model, best-of-N, PPO and DPO,
drawn in `bench/rlhf_frontier.png`; with the pipeline's wall time and each stage's.

The work folder (`--work-dir`, default `WORK_DIR`) is the same for every run of the benchmark: run again after an
interruption, the pipeline resumes there, reusing the stages it finished, and the folder is removed only once the row
is recorded."""

import json
import shutil
import sys
import time
from pathlib import Path

from bench import results
from bench.runs import CACHE, python
from keras_apps import files
from keras_apps.errors import UserError

RUNS = {"pipeline": []}
FRONTIER_PLOT = Path(__file__).with_name("rlhf_frontier.png")  # the README shows it
WORK_DIR = CACHE / "bench-rlhf"
WALL_SECONDS = "wall_seconds.json"  # the pipeline's wall time over the attempts so far
WORK = ("exports", "runs", WALL_SECONDS)  # all a work folder holds: it is removed whole once the row is recorded
# The pipeline runs with its defaults: it takes none of `python -m bench`'s smoke-test flags (run
# `python -m tasks.rlhf <stage>` with smaller settings instead).
LIMITS = {}


def pipeline_row(workdir):
    """Runs the pipeline in `workdir`; the results row of what its stages measured."""
    runs = Path(workdir) / "runs"
    wall_seconds = _wall_seconds_over_attempts(
        workdir, ["-m", "tasks.rlhf", "--exports", str(Path(workdir) / "exports"), "--run-dir", str(runs)])
    stage = {name: json.loads((runs / name / "metrics.json").read_text()) for name in results.PIPELINE_STAGES}
    frontier = json.loads((runs / "evaluate" / "frontier.json").read_text())
    return {
        "command": "python -m tasks.rlhf", "wall_seconds": round(wall_seconds, 1),
        "stage_seconds": {name: round(metrics["time"]["total_seconds"], 1) for name, metrics in stage.items()},
        "sft_loss": stage["sft"]["validation"]["loss"], "sft_perplexity": stage["sft"]["validation"]["perplexity"],
        "reward_agreement": stage["reward"]["test"], "judge_accuracy": stage["judge"]["test"]["accuracy"],
        "classifier_accuracy": stage["classifier"]["test"]["accuracy"],
        "ppo_last_iteration": stage["ppo"]["last_iteration"], "frontier": frontier["points"],
        "prompts": frontier["prompts"], "new_tokens": frontier["new_tokens"], "machine": results.machine(),
    }


def _wall_seconds_over_attempts(workdir, arguments):
    """Runs `python arguments…`; returns its wall time added to that of the earlier attempts in `workdir`, kept there
    even when this one fails: a resumed pipeline's own time would leave out the stages it reused."""
    spent = Path(workdir) / WALL_SECONDS
    earlier = json.loads(spent.read_text()) if spent.exists() else 0.0
    start = time.perf_counter()
    try:
        return earlier + python(arguments)
    finally:
        files.write_json(spent, earlier + time.perf_counter() - start)


def run(runs, repeats, limits, figures=True, work_dir=WORK_DIR):
    """Runs the pipeline in `work_dir` (`repeats` does not apply); yields `("rlhf-pipeline", row)`, and with
    `figures` draws its frontier as the README shows it. The folder goes once the row is recorded, that is when
    the next row is asked for."""
    files.check_writable_directory(work_dir, "--work-dir")
    others = files.entries_besides(work_dir, WORK)
    if others:  # removed whole after the row: never a folder that holds anything else
        raise UserError(f"--work-dir {work_dir} holds {others}, which the pipeline did not write; name an empty or "
                        f"new folder")
    from keras_apps.evaluate.plots import plot_frontier

    for name in runs:
        print(f"rlhf-{name}: working in {work_dir}; the same command again resumes the pipeline there", flush=True)
        try:
            row = pipeline_row(work_dir)
        except BaseException:  # hours of stages, each export a model: kept, not deleted with the failure
            print(f"the pipeline's runs and exports are kept in {work_dir}; the same command again resumes it",
                  file=sys.stderr, flush=True)
            raise
        if figures:
            plot_frontier(row["frontier"], FRONTIER_PLOT)
        yield f"rlhf-{name}", row
        shutil.rmtree(work_dir)
