"""Preference tuning measured as the DPO paper measures it (its §6.1 and Figure 2): `python -m tasks.rlhf`, the
whole pipeline with its defaults in a fresh folder, and what each stage reached: the SFT model's validation
loss, the reward model's agreement with the raters on pairs of test reviews, the test accuracy of the classifier
the policies are tuned against and of the judge, and the reward–KL frontier on held-out prompts (the judge's
P(positive), the classifier's log-odds and the KL to the SFT model) of the SFT model, best-of-N, PPO and DPO,
drawn in `bench/rlhf_frontier.png`; with the pipeline's wall time and each stage's."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench import results
from bench.runs import python
from keras_apps.errors import UserError

RUNS = {"pipeline": []}
FRONTIER_PLOT = Path(__file__).with_name("rlhf_frontier.png")  # the README shows it


def pipeline_row(workdir):
    """Runs the pipeline in `workdir`; the results row of what its stages measured."""
    runs = Path(workdir) / "runs"
    wall_seconds = python(["-m", "tasks.rlhf", "--exports", str(Path(workdir) / "exports"), "--run-dir", str(runs)])
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


def run(runs, repeats, limits, figures=True):
    """Runs the pipeline (`repeats` does not apply); yields `("rlhf-pipeline", row)`, and with `figures` draws
    its frontier as the README shows it."""
    if limits:
        raise UserError("the rlhf benchmark runs the pipeline with its defaults; it takes no --train-examples or "
                        "--epochs (run `python -m tasks.rlhf <stage>` with smaller settings instead)")
    from keras_apps.evaluate.plots import plot_frontier

    for name in runs:
        workdir = tempfile.mkdtemp(prefix="bench-rlhf-")
        try:
            row = pipeline_row(workdir)
        except BaseException:  # hours of stages, each export a model: kept, not deleted with the failure
            print(f"the pipeline's runs and exports are kept in {workdir}", file=sys.stderr, flush=True)
            raise
        shutil.rmtree(workdir)
        if figures:
            plot_frontier(row["frontier"], FRONTIER_PLOT)
        yield f"rlhf-{name}", row
