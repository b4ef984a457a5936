"""A run killed at any point is finished by rerunning the same command: one history row per epoch, exactly
one new export version, nothing half-written left behind."""

import json
import signal

import pytest

from keras_apps.export.saved_model import versions
from keras_apps.training.run_directory import RunDirectory
from tasks import mnist
from tests.conftest import run_cli, run_python


@pytest.mark.real_data
def test_a_run_killed_at_each_point_is_finished_by_the_same_command(real_data_dir, tmp_path, capsys):
    exports, run = tmp_path / "exports", RunDirectory(tmp_path / "run")
    command = ["mnist", "--model", "convnet", "--epochs", "2", "--train-examples", "1000",
               "--run-dir", str(run.path), "--export-dir", str(exports)]
    env = {"KERAS_APPS_DATA": str(real_data_dir)}

    def killed_at(point):
        process = run_python("-m", "tests.tasks.killed_task", "--kill-at", point, *command, env=env)
        assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]
        assert not run.metrics.exists()
        return process

    killed_at("epoch")
    assert [row["epoch"] for row in run.read_history()] == [0] and run.is_resumable

    resumed = killed_at("trained")  # the rerun trains the last epoch, then dies before recording its training
    assert "Resuming the interrupted run" in resumed.stdout and "Epoch 2/2" in resumed.stdout
    assert [row["epoch"] for row in run.read_history()] == [0, 1] and not run.fit_record.exists()

    resumed = killed_at("after-fit")  # the rerun trains no epoch again, records training, dies before exporting
    assert "Epoch" not in resumed.stdout
    assert [row["epoch"] for row in run.read_history()] == [0, 1] and run.fit_record.exists()
    assert versions(exports) == []

    killed_at("export")  # the rerun does not train again; it dies with the SavedModel half written
    assert [row["epoch"] for row in run.read_history()] == [0, 1] and versions(exports) == []
    assert len(list(exports.glob(".export-*"))) == 1

    killed_at("publish")  # it dies after publishing version 1, before the run's last file
    assert versions(exports) == [1] and not list(exports.glob(".export-*"))

    finished = run_python("-m", "tasks.mnist", *command[1:], env=env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "Training ended in an earlier attempt" in finished.stdout
    assert [row["epoch"] for row in run.read_history()] == [0, 1]
    assert versions(exports) == [1] and not list(exports.glob(".export-*"))
    metrics = json.loads(run.metrics.read_text())
    assert metrics["epochs"] == 2 and metrics["export"] == str(exports / "1")
    assert (exports / "1" / "MODEL_CARD.md").is_file()

    status, _, err = run_cli(mnist.main, command[1:], capsys)  # a finished run is never reused
    assert status == 2 and "holds a finished run" in err
