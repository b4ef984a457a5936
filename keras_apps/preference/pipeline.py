"""Preference tuning in one command (`python -m tasks.rlhf`): each stage a fresh `python -m tasks.rlhf <stage>`
process, in order, skipped when its export is already there.

A stage runs in a process of its own, as a person typing the commands one after another would run it: each
starts TensorFlow afresh and shows its own progress, and one that fails stops the rest in one line naming it.
Each stage's run folder is `<run_dir>/<stage>`, so the same command run again after an interruption resumes
the interrupted stage (the run lifecycle) and reuses every export already made.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from keras_apps.errors import UserError


@dataclass(frozen=True)
class Stage:
    """One command of a pipeline: `python *argv --run-dir <run_dir>/<name>`, with `--export-dir export` unless
    `export` is None (a stage that exports nothing, which always runs)."""

    name: str
    export: str | None
    argv: list


def run_stages(stages, run_dir):
    """Runs `stages` in order; a stage whose export exists is reused, not made again."""
    for stage in stages:
        if stage.export is not None and Path(stage.export).exists():
            print(f"{stage.name}: reusing {stage.export} (remove it to make it again)", flush=True)
            continue
        argv = [*stage.argv, "--run-dir", str(Path(run_dir) / stage.name)]
        argv += [] if stage.export is None else ["--export-dir", stage.export]
        print(f"{stage.name}: $ python {' '.join(argv)}", flush=True)
        status = subprocess.run([sys.executable, *argv]).returncode
        if status != 0:
            raise UserError(f"the {stage.name} stage failed (exit status {status}, its error above); run the same "
                            f"command again to resume it")


def preference_tuning(exports, judge, data_dir=None):
    """The stages of `python -m tasks.rlhf`, each with its defaults: the SFT model, the reward model, a judge
    (IMDB's default classifier, nb-bow, where `judge` does not exist yet), PPO and DPO, each exporting into
    `exports`, then the evaluation of both policies beside the SFT model and best-of-N."""
    made = {name: str(Path(exports) / f"rlhf-{name}") for name in ("sft", "reward", "ppo", "dpo")}
    data = ["--data-dir", str(data_dir)] if data_dir else []
    tuning = ["--sft-export", made["sft"], "--reward-export", made["reward"], *data]
    return [
        Stage("sft", made["sft"], ["-m", "tasks.rlhf", "sft", *data]),
        Stage("reward", made["reward"], ["-m", "tasks.rlhf", "reward", "--sft-export", made["sft"], *data]),
        Stage("judge", str(judge), ["-m", "tasks.imdb", "--model", "nb-bow", *data]),
        Stage("ppo", made["ppo"], ["-m", "tasks.rlhf", "ppo", *tuning]),
        Stage("dpo", made["dpo"], ["-m", "tasks.rlhf", "dpo", *tuning]),
        Stage("evaluate", None, ["-m", "tasks.rlhf", "evaluate", *tuning, "--judge-export", str(judge),
                                 "--policy-export", made["ppo"], made["dpo"]]),
    ]
