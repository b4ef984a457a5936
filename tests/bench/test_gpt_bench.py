import ast

import pytest

from tests.conftest import run_python


@pytest.mark.real_data
def test_a_smoke_run_measures_sampling_and_records_nothing(real_shakespeare_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "gpt", "--runs", "default", "--epochs", "1", "--results", str(results_file),
                           env={"KERAS_APPS_DATA": str(real_shakespeare_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    row = ast.literal_eval(completed.stdout.split("gpt-default: ", 1)[1].splitlines()[0])
    assert row["command"] == "python -m tasks.gpt" and row["steps"] == 20 and row["sampling_cache_speedup"] > 0
    assert not results_file.exists()


@pytest.mark.real_data
def test_a_smoke_run_of_nanogpt_s_recipe_reports_every_seed(real_shakespeare_dir, tmp_path):
    completed = run_python("-m", "bench", "gpt", "--runs", "nanogpt-cpu", "--epochs", "1", "--results",
                           str(tmp_path / "results.json"), env={"KERAS_APPS_DATA": str(real_shakespeare_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    row = ast.literal_eval(completed.stdout.split("gpt-nanogpt-cpu: ", 1)[1].splitlines()[0])
    assert len(row["validation_loss_seeds"]) == 2 and row["validation_loss_seeds"][0] != row["validation_loss_seeds"][1]
    assert row["validation_loss"] == pytest.approx(sum(row["validation_loss_seeds"]) / 2, abs=1e-4)
    assert row["wall_seconds_max"] >= row["wall_seconds"] > 0 and row["steps"] == 20
