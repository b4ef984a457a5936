"""Running a task as a user does (`bench.runs`): a failed command is one line, never a row of a run that did not
finish, and the run's own `metrics.json` is what becomes its row."""

import json
from pathlib import Path

import pytest

from bench import runs
from keras_apps.errors import UserError


@pytest.mark.parametrize("code, status", [
    ("raise SystemExit(3)", "3"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "-9"),  # killed (out of memory): no exit of its own
])
def test_a_command_that_fails_or_is_killed_is_one_line(code, status):
    with pytest.raises(UserError, match=f"benchmark command failed with exit status {status}: python -c"):
        runs.python(["-c", code])


def test_a_command_s_wall_time_is_how_long_it_ran():
    assert 0.2 <= runs.python(["-c", "import time; time.sleep(0.2)"]) < 60


def test_a_task_runs_with_the_limits_after_its_own_arguments_and_its_metrics_are_read_from_its_run(tmp_path,
                                                                                                   monkeypatch):
    """The limits come last, so a smoke test's `--epochs 1` wins over a run's own `--epochs 5`."""
    given = []

    def python(arguments):
        given.append(arguments)
        run_dir = Path(arguments[arguments.index("--run-dir") + 1])
        run_dir.mkdir(parents=True)
        (run_dir / "metrics.json").write_text(json.dumps({"model": "convnet"}))
        return 12.5

    monkeypatch.setattr(runs, "python", python)
    metrics, wall_seconds = runs.run_task("mnist", ["--epochs", "5"], tmp_path, ["--epochs", "1"])
    assert (metrics, wall_seconds) == ({"model": "convnet"}, 12.5)
    assert given == [["-m", "tasks.mnist", "--epochs", "5", "--epochs", "1", "--run-dir", str(tmp_path / "run"),
                      "--export-dir", str(tmp_path / "export")]]


METRICS = {"model": "convnet", "params": 1000, "epochs": 2, "train_seconds": 10.0, "train_examples_per_second": 6000.0,
           "peak_memory_mb": 500.0, "train": {"loss": 0.5}, "validation": {"loss": 0.2, "accuracy": 0.97},
           "test": {"accuracy": 0.96}}


def test_a_row_holds_the_run_s_test_figures_and_the_machine_and_what_a_benchmark_adds_has_the_last_word(monkeypatch):
    monkeypatch.setattr(runs.results, "machine", lambda: "2 x CPU")
    row = runs.row("python -m tasks.mnist", METRICS, wall_seconds=12.5)
    assert row["test_accuracy"] == 0.96 and row["machine"] == "2 x CPU" and row["wall_seconds"] == 12.5
    assert row["epochs"] == 2 and row["command"] == "python -m tasks.mnist"
    # `bench multimodal`'s row: the test accuracy is the mean over its seeds, not the first seed's
    assert runs.row("python -m tasks.multimodal", METRICS, test_accuracy=0.95)["test_accuracy"] == 0.95


@pytest.mark.parametrize("metrics, figure", [
    (METRICS, ("test accuracy", 0.96)),
    ({**METRICS, "test": {"bleu": 41.2}}, ("test BLEU", 41.2)),
    ({**METRICS, "test": None}, ("validation loss", 0.2)),
])
def test_a_run_s_figure_is_its_test_figure_or_its_validation_loss(metrics, figure):
    assert runs.figure(metrics) == figure
