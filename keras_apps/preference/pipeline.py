"""Preference tuning in one command (`python -m tasks.rlhf`): each stage a fresh `python -m tasks.rlhf <stage>`
process, in order, skipped when its export has a published version already.

A stage runs in a process of its own, as a person typing the commands one after another would run it: each
starts TensorFlow afresh and shows its own progress, and one that fails stops the rest in one line naming it.
Each stage's run folder is `<run_dir>/<stage>`, so the same command run again after an interruption resumes
the interrupted stage (the run lifecycle) and reuses every export already made.
"""

import datetime
import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from keras_apps import files
from keras_apps.cli import RESUME_WITH
from keras_apps.errors import UserError

# What a stage's run folder holds once it finished: a training run's metrics, the evaluation's frontier.
FINISHED = ("metrics.json", "frontier.json")

# The exit status of a command a Ctrl-C stopped (`cli.run`), and a shell's for one that SIGTERM ended.
INTERRUPTED, TERMINATED = 130, 128 + signal.SIGTERM


@dataclass(frozen=True)
class Stage:
    """One command of a pipeline: `python *argv --run-dir <run_dir>/<name>`, with `--export-dir export` unless
    `export` is None (a stage that exports nothing, which always runs)."""

    name: str
    export: str | None
    argv: list


def run_stages(stages, run_dir):
    """Runs `stages` in order; a stage whose export has a published version is reused, not made again (a folder
    holding only what an export killed midway left is made again). A stage made again where an earlier one
    finished (its export removed to remake it, or the evaluation of a pipeline run again) starts in a fresh run
    folder, the finished one kept beside it. A stage tells how to resume it as the pipeline's own command."""
    from keras_apps.export.versions import versions

    environment = {**os.environ, RESUME_WITH: shlex.join(sys.orig_argv)}
    for stage in stages:
        if stage.export is not None and versions(stage.export):
            print(f"{stage.name}: reusing {stage.export} (remove it to make it again)", flush=True)
            continue
        folder = Path(run_dir) / stage.name
        if any((folder / finished).exists() for finished in FINISHED):
            kept = folder.with_name(f"{stage.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
            folder.rename(kept)
            print(f"{stage.name}: its earlier finished run is kept in {kept}", flush=True)
        argv = [*stage.argv, "--run-dir", str(folder)]
        argv += [] if stage.export is None else ["--export-dir", stage.export]
        print(f"{stage.name}: $ python {' '.join(argv)}", flush=True)
        status = _run(argv, environment)
        if status != 0:
            raise UserError(f"the {stage.name} stage failed (exit status {status}, its error above); run the same "
                            f"command again to resume it")


def _run(argv, environment):
    """The exit status of `python *argv`. A SIGTERM (`kill`, `timeout`, a container stopped) comes to the
    pipeline alone: it is passed on to the stage, which would otherwise train on with no pipeline, holding its
    folder against the rerun; once the stage has ended, the pipeline says how to resume and ends with SIGTERM's
    status. Its handler is the pipeline's only while the stage runs."""
    terminated, stage = [], []

    def on_sigterm(signum, frame):
        terminated.append(signum)
        for process in stage:
            process.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        stage.append(subprocess.Popen([sys.executable, *argv], env=environment))
        if terminated:  # came while the stage was starting
            stage[0].terminate()
        status = _waited(stage[0])
    finally:
        signal.signal(signal.SIGTERM, previous)
    if terminated:
        print(f"stopped by SIGTERM; rerun `{environment[RESUME_WITH]}` to resume it", file=sys.stderr, flush=True)
        raise SystemExit(TERMINATED)
    return status


def _waited(process):
    """The exit status of the stage `process`. A Ctrl-C reaches the stage too (the terminal's process group): the
    pipeline waits for it to stop, which can take a second or two, and then ends with its status and without a
    line of its own, the stage's naming the command that resumes it (`subprocess.run` kills it a quarter of a
    second after a Ctrl-C, before it says so or lets go of its folder). A second Ctrl-C ends both at once."""
    try:
        return process.wait()
    except KeyboardInterrupt:
        if process.wait() == INTERRUPTED:
            raise SystemExit(INTERRUPTED) from None
        raise


# nb-bow's log-odds spread about ±0.5 on the SFT model's samples, less than the learned reward's: PPO starts
# with a smaller KL penalty for it, and at half the default learning rate drifts less for the same reward
# (bench/NOTES.md, "Preference tuning against a sentiment classifier").
CLASSIFIER_PPO = ("--kl-coefficient", "0.05", "--learning-rate", "5e-5", "--epochs", "22")
# DPO with the classifier's own preference probabilities as labels, so that β and not the length of training sets
# how far the policy moves, on four times the default pairs seen once (β 0.11: bench/NOTES.md, "The pipeline's DPO").
CLASSIFIER_DPO = ("--labels", "reward", "--beta", "0.11", "--prompts", "8000", "--epochs", "1")


def preference_tuning(exports, judge, data_dir=None):
    """The stages of `python -m tasks.rlhf`, the DPO paper's experiment, each exporting into `exports`:

    the SFT model; the reward model learned from the reviewers' ratings (trained and measured; `ppo`'s and
    `dpo`'s default reward); IMDB's nb-bow classifier, the reward the policies are tuned against here (its
    log-odds of a positive review, the paper's kind of reward); the judge, where `judge` does not exist yet:
    IMDB's Transformer trained without a teacher (its default teacher is nb-bow, whose verdicts would make
    the judge a student of the reward it checks); PPO and DPO; then the evaluation of both policies beside the
    SFT model and best-of-N."""
    files.check_writable_directory(exports, "--exports")  # before any stage, not as the first stage's failure
    made = {name: str(Path(exports) / f"rlhf-{name}") for name in ("sft", "reward", "ppo", "dpo")}
    classifier = str(Path(exports) / "imdb-nb-bow")
    data = ["--data-dir", str(data_dir)] if data_dir else []
    tuning = ["--sft-export", made["sft"], "--reward-export", classifier, *data]
    return [
        Stage("sft", made["sft"], ["-m", "tasks.rlhf", "sft", *data]),
        Stage("reward", made["reward"], ["-m", "tasks.rlhf", "reward", "--sft-export", made["sft"], *data]),
        Stage("classifier", classifier, ["-m", "tasks.imdb", "--model", "nb-bow", *data]),
        Stage("judge", str(judge), ["-m", "tasks.imdb", "--model", "transformer", "--teacher", "none", *data]),
        Stage("ppo", made["ppo"], ["-m", "tasks.rlhf", "ppo", *tuning, *CLASSIFIER_PPO]),
        Stage("dpo", made["dpo"], ["-m", "tasks.rlhf", "dpo", *tuning, *CLASSIFIER_DPO]),
        Stage("evaluate", None, ["-m", "tasks.rlhf", "evaluate", *tuning, "--judge-export", str(judge),
                                 "--policy-export", made["ppo"], made["dpo"]]),
    ]
