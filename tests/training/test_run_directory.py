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
