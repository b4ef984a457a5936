import pytest

from tests.conftest import run_python


@pytest.mark.real_data
def test_a_smoke_run_scores_and_times_decoding_and_records_nothing(real_spa_eng_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "translate", "--epochs", "1", "--train-examples", "500",
                           "--results", str(results_file), env={"KERAS_APPS_DATA": str(real_spa_eng_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "translate-default: {'command': 'python -m tasks.translate'," in completed.stdout
    assert "'test_sentences': 20" in completed.stdout and "'decoding': {'1': {" in completed.stdout
    assert not results_file.exists()
