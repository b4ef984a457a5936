import json
import signal

from keras_apps.training.run_directory import RunDirectory
from tests.conftest import run_python


def test_a_killed_run_resumes_from_its_last_finished_epoch(tmp_path):
    run_dir = tmp_path / "run"
    killed = run_python("-m", "tests.training.interruptible_training", str(run_dir), "--kill-at-epoch", "1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run = RunDirectory(run_dir)
    assert [row["epoch"] for row in run.read_history()] == [0]
    assert run.is_resumable

    resumed = run_python("-m", "tests.training.interruptible_training", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads((run_dir / "result.json").read_text())
    assert result["initial_epoch"] == 1 and result["epochs_completed"] == 3
    # The optimizer state came back from the backup: it counts every step of all three epochs (4 each),
    # not only the two epochs this process ran.
    assert result["optimizer_iterations"] == 3 * 4
    assert [row["epoch"] for row in run.read_history()] == [0, 1, 2]
    assert not run.backup.exists()
