import json
import re

import pytest

from keras_apps.errors import UserError
from keras_apps.training.run_directory import RunDirectory


def test_default_location_is_runs_task_timestamp(tmp_path):
    run = RunDirectory.create("mnist", root=tmp_path / "runs")
    assert run.path.parent == tmp_path / "runs" / "mnist" and run.path.is_dir()
    assert RunDirectory.create("mnist", root=tmp_path / "runs").path != run.path


def test_a_finished_run_directory_is_not_reused(tmp_path):
    run = RunDirectory.create("tiny", tmp_path / "done")
    run.write_metrics({"task": "tiny"})
    with pytest.raises(UserError, match="finished run"):
        RunDirectory.create("tiny", tmp_path / "done")


def test_an_unfinished_run_directory_is_resumable(tmp_path):
    run = RunDirectory.create("tiny", tmp_path / "run")
    assert not run.is_resumable
    run.backup.mkdir()
    (run.backup / "latest.weights.h5").write_bytes(b"state")
    assert RunDirectory.create("tiny", tmp_path / "run").is_resumable


def test_an_attempt_that_left_no_backup_leaves_nothing_a_new_start_would_restore_or_append_to(tmp_path):
    """The best checkpoint's record goes with it: read back beside a later checkpoint, its value would make the
    new start's better epochs look worse."""
    run = RunDirectory.create("tiny", tmp_path / "run")
    run.write_config({"task": "tiny"})
    for path in (run.history, run.best_model, run.best_model.with_suffix(".json"), run.training_ended):
        path.write_text("the earlier attempt's")
    run.discard_unfinished_training()
    assert sorted(path.name for path in run.path.iterdir()) == [".lock", "config.json"]


def test_a_record_is_read_only_with_a_value_of_each_type_asked_for(tmp_path):
    """Any JSON number is a float, and true is no number: a value of another type (edited by hand) is one line
    where it is read, not a TypeError where it is used."""
    record = tmp_path / "record.json"
    keys = {"count": int, "seconds": float, "median": float | None, "chief": bool}
    for kept in ({"count": 2, "seconds": 3, "median": None, "chief": True},
                 {"count": 2, "seconds": 3.5, "median": 0.25, "chief": False}):
        record.write_text(json.dumps(kept))
        assert RunDirectory.read_record(record, keys) == kept
    for wrong, shown in (({"seconds": None}, "seconds=None (not float)"), ({"count": "two"}, "count='two' (not int)"),
                         ({"count": 2.0}, "count=2.0 (not int)"), ({"seconds": True}, "seconds=True (not float)"),
                         ({"median": "low"}, "median='low' (not float | None)"), ({"chief": 1}, "chief=1 (not bool)")):
        record.write_text(json.dumps({"count": 2, "seconds": 3.5, "median": None, "chief": True, **wrong}))
        with pytest.raises(UserError, match=re.escape(f"record.json holds {shown}; the run cannot go on from it: "
                                                      "start it in a new --run-dir")):
            RunDirectory.read_record(record, keys)
        with pytest.raises(UserError, match=re.escape(f"{shown}; the run cannot go on from it: delete it")):
            RunDirectory.read_record(record, keys, remedy="delete it")


def test_history_and_curves(tmp_path):
    run = RunDirectory.create("tiny", tmp_path / "run")
    run.plot_history()  # no epoch yet: nothing to draw
    assert not run.curves.exists()
    run.history.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,0.6,0.9\n1,0.7,0.6,0.8,0.5\n")
    assert run.read_history()[1]["val_loss"] == 0.5
    run.plot_history()
    assert run.curves.read_bytes()[:4] == b"\x89PNG"


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="not a directory"):
        RunDirectory.create("tiny", tmp_path / "file")


def test_a_lock_that_cannot_be_opened_is_one_line(tmp_path):
    (tmp_path / "run" / ".lock").mkdir(parents=True)  # as another user's .lock is to this one: not to be opened
    with pytest.raises(UserError, match=r"--run-dir .*run: cannot open its lock, .lock \(Is a directory\); if no "
                       "command runs there, remove .lock"):
        RunDirectory.create("tiny", tmp_path / "run")


HOLDER = """
import sys
from keras_apps.training.run_directory import RunDirectory
RunDirectory.create("task", sys.argv[1])
print("held", flush=True)
sys.stdin.read()
"""


def test_a_folder_another_running_command_writes_is_refused_until_that_process_ends(tmp_path):
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "run")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(UserError, match=rf"run is being written by a command still running \(process "
                                            rf"{holder.pid} on .+\); wait for it to end, or choose another"):
            RunDirectory.create("task", tmp_path / "run")
        RunDirectory.create("task", tmp_path / "run", hold=False)  # a cluster's worker reads the chief's folder
    finally:
        holder.kill()  # killed, not ended: the system drops its claim
        holder.wait()
    assert RunDirectory.create("task", tmp_path / "run").path == tmp_path / "run"


def test_a_command_holds_its_folders_until_it_ends(tmp_path):
    from keras_apps import cli
    from keras_apps.training import run_directory

    def main(argv):
        run = RunDirectory.create("task", tmp_path / "run")
        assert RunDirectory.create("task", tmp_path / "run").path == run.path  # its own again: not refused
        held.update(run_directory.HELD)
        return 0

    held = {}
    assert cli.run(main, []) == 0
    assert list(held) == [(tmp_path / "run").resolve()] and not run_directory.HELD
    assert all(handle.closed for handle in held.values())

