import pytest

from tests.conftest import run_python


@pytest.mark.real_data
def test_a_smoke_run_measures_sampling_and_records_nothing(real_shakespeare_dir, tmp_path):
    data_dir = real_shakespeare_dir
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "gpt", "--runs", "default", "--epochs", "1", "--results", str(results_file),
                           env={"KERAS_APPS_DATA": str(data_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "gpt-default: {'command': 'python -m tasks.gpt'," in completed.stdout
    assert "'steps': 20" in completed.stdout and "'sampling_cache_speedup'" in completed.stdout
    assert not results_file.exists()
