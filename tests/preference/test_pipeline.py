"""The one-command pipeline: stages run in order as fresh processes, an export already there is reused, a
failed stage stops the rest in one line; and every stage of `python -m tasks.rlhf` is a command line its task
accepts."""

import contextlib
import importlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keras_apps import cli
from keras_apps.errors import UserError
from keras_apps.preference.pipeline import Stage, preference_tuning, run_stages
from keras_apps.training.run_directory import RunDirectory, release_held


def writer(path, text):
    return ["-c", f"import sys; open({str(path)!r}, 'a').write({text!r} + ' ' + ' '.join(sys.argv[1:]) + '\\n')"]


def test_stages_run_in_order_with_their_folders_and_a_published_export_is_reused(tmp_path):
    log, made, killed = tmp_path / "log.txt", tmp_path / "made", tmp_path / "killed"
    (made / "1").mkdir(parents=True)
    (killed / ".export-0123abcd-x").mkdir(parents=True)  # an export killed before it published a version
    run_stages([Stage("first", str(tmp_path / "first"), writer(log, "first")),
                Stage("second", str(made), writer(log, "second")),
                Stage("third", str(killed), writer(log, "third")),
                Stage("last", None, writer(log, "last"))], tmp_path / "runs")
    first, third, last = log.read_text().splitlines()
    assert first == f"first --run-dir {tmp_path / 'runs' / 'first'} --export-dir {tmp_path / 'first'}"
    assert third == f"third --run-dir {tmp_path / 'runs' / 'third'} --export-dir {killed}"
    assert last == f"last --run-dir {tmp_path / 'runs' / 'last'}"  # "second"'s export is published: not run


def test_a_failed_stage_stops_the_pipeline_naming_it(tmp_path):
    log = tmp_path / "log.txt"
    with pytest.raises(UserError, match="the broken stage failed .exit status 3"):
        run_stages([Stage("broken", None, ["-c", "import sys; sys.exit(3)"]),
                    Stage("after", None, writer(log, "after"))], tmp_path / "runs")
    assert not log.exists()


def test_a_stage_made_again_where_one_finished_starts_afresh_and_keeps_the_finished_one(tmp_path):
    """Its export removed to remake it (the pipeline's own advice), or a finished pipeline run again: the stage's
    folder held a finished run, refused by the stage, and "run the same command again" failed the same forever."""
    runs, log = tmp_path / "runs", tmp_path / "log.txt"
    for name, finished in (("classifier", "metrics.json"), ("evaluate", "frontier.json")):
        (runs / name).mkdir(parents=True)
        (runs / name / finished).write_text("{}")
    run_stages([Stage("classifier", str(tmp_path / "removed"), writer(log, "classifier")),
                Stage("evaluate", None, writer(log, "evaluate"))], runs)
    assert len(log.read_text().splitlines()) == 2 and not (runs / "classifier").exists()  # the stage's to make
    kept = sorted(path.name for path in runs.iterdir())
    assert len(kept) == 2 and kept[0].startswith("classifier-") and kept[1].startswith("evaluate-")
    assert (runs / kept[0] / "metrics.json").exists() and (runs / kept[1] / "frontier.json").exists()


def test_a_stage_interrupted_says_to_resume_it_with_the_pipeline_s_command(tmp_path, monkeypatch, capsys):
    """The stage's own hint (`--run-dir runs/sft`), given to the pipeline, started a new SFT model nested in the
    interrupted stage's folder; the pipeline's command resumes the stage in its own."""
    told = tmp_path / "told.txt"
    telling = ["-c", f"import os; open({str(told)!r}, 'w').write(os.environ[{cli.RESUME_WITH!r}])"]
    run_stages([Stage("sft", None, telling)], tmp_path / "runs")
    assert told.read_text() == shlex.join(sys.orig_argv)

    def stage(argv):  # a stage's process, training when the Ctrl-C comes
        cli.OPENED_FOR_TRAINING.append(tmp_path / "runs" / "sft")
        raise KeyboardInterrupt

    monkeypatch.setenv(cli.RESUME_WITH, "python -m tasks.rlhf --run-dir runs")
    assert cli.run(stage, []) == 130
    assert capsys.readouterr().err == "interrupted; rerun `python -m tasks.rlhf --run-dir runs` to resume it\n"


# A stage training when the pipeline is stopped, which takes a second to stop after a Ctrl-C (TensorFlow's teardown).
TRAINING_STAGE = """import os, sys, time
from keras_apps import cli
from keras_apps.training.run_directory import OPENED_FOR_TRAINING, RunDirectory

def train(argv):
    run = RunDirectory.create("stage", argv[argv.index("--run-dir") + 1])
    OPENED_FOR_TRAINING.append(run.path)
    (run.path / "pid").write_text(str(os.getpid()))
    (run.path / "training").touch()
    try:
        time.sleep(60)
    finally:
        time.sleep(1)

cli.exit_process(cli.run(train, sys.argv[1:]))
"""


def pipeline_training(tmp_path):
    """`(the pipeline's process, its command, its run folder)`: a pipeline, in a process group of its own, whose
    one stage (`TRAINING_STAGE`) is training."""
    stage, pipeline, runs = tmp_path / "stage.py", tmp_path / "pipeline.py", tmp_path / "runs"
    stage.write_text(TRAINING_STAGE)
    pipeline.write_text("from keras_apps import cli\nfrom keras_apps.preference.pipeline import Stage, run_stages\n"
                        f"cli.exit_process(cli.run(lambda argv: run_stages([Stage('sft', None, [{str(stage)!r}])], "
                        f"{str(runs)!r}) or 0))\n")
    environment = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    process = subprocess.Popen([sys.executable, str(pipeline)], env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (runs / "sft" / "training").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process, shlex.join([sys.executable, str(pipeline)]), runs


def test_a_ctrl_c_to_the_pipeline_lets_the_stage_say_how_to_resume_it_and_release_its_folder(tmp_path):
    """The pipeline killed the stage a quarter of a second after the Ctrl-C: only a bare `interrupted` came,
    from the pipeline, and the stage's folder stayed held by a process that never ended its run."""
    process, command, runs = pipeline_training(tmp_path)
    os.killpg(process.pid, signal.SIGINT)  # a Ctrl-C: to the terminal's process group, the stage's too
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err == f"interrupted; rerun `{command}` to resume it\n"
    RunDirectory(runs / "sft").hold()  # refused while a command still holds it
    release_held()


def test_a_sigterm_to_the_pipeline_alone_ends_the_stage_too_and_says_how_to_resume(tmp_path):
    """`kill`, `timeout` and a container's stop signal the pipeline's process alone: the stage trained on for
    minutes with no pipeline, holding its folder, and the rerun was refused until it ended."""
    process, command, runs = pipeline_training(tmp_path)
    stage = int((runs / "sft" / "pid").read_text())
    try:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 143
        assert err == f"stopped by SIGTERM; rerun `{command}` to resume it\n"
        with pytest.raises(ProcessLookupError):
            os.kill(stage, 0)
        RunDirectory(runs / "sft").hold()
        release_held()
    finally:
        with contextlib.suppress(ProcessLookupError):  # a stage left running: not for the rest of the tests
            os.killpg(process.pid, signal.SIGKILL)


def test_every_stage_of_preference_tuning_is_a_command_line_its_task_accepts(tmp_path):
    stages = preference_tuning(tmp_path / "exports", tmp_path / "judge", data_dir=tmp_path / "data")
    assert [stage.name for stage in stages] == ["sft", "reward", "classifier", "judge", "ppo", "dpo", "evaluate"]
    for stage in stages:
        assert stage.argv[0] == "-m" and stage.argv[1].startswith("tasks.")
        task = importlib.import_module(stage.argv[1])
        argv = [*stage.argv[2:], "--run-dir", str(tmp_path / stage.name)]
        argv += [] if stage.export is None else ["--export-dir", stage.export]
        args = cli.parse_arguments(task.TASK, "", task.COMMANDS, argv)
        assert args.data_dir == str(tmp_path / "data")
    rlhf = sys.modules["tasks.rlhf"].COMMANDS
    evaluate = cli.parse_arguments("rlhf", "", rlhf, stages[-1].argv[2:])
    assert evaluate.policy_export == [stages[4].export, stages[5].export]
    assert evaluate.judge_export == str(tmp_path / "judge") == stages[3].export
    for tuned in (stages[4], stages[5], stages[-1]):  # tuned against the classifier, judged by another model
        assert cli.parse_arguments("rlhf", "", rlhf, tuned.argv[2:]).reward_export == stages[2].export
    assert stages[2].argv[stages[2].argv.index("--model") + 1] == "nb-bow"
    assert stages[3].argv[stages[3].argv.index("--teacher") + 1] == "none"


def test_exports_that_cannot_be_a_folder_are_refused_before_any_stage(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(UserError, match="--exports .*a-file is a file"):
        preference_tuning(tmp_path / "a-file", tmp_path / "judge")
