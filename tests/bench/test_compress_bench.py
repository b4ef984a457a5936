import pytest

from tests.conftest import run_python


def test_an_unknown_run_is_named_with_the_choices():
    completed = run_python("-m", "bench", "compress", "--runs", "bert")
    assert completed.returncode == 2
    assert ("compress has no run named bert; choose from mnist, imdb, imdb-transformer, gpt, translate, gpt-lora, "
            "bert-lora") in completed.stderr


@pytest.mark.real_data
def test_a_shortened_benchmark_runs_and_records_nothing(real_imdb_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "compress", "--runs", "imdb", "--train-examples", "1000",
                           "--epochs", "1", "--results", str(results_file),
                           env={"KERAS_APPS_DATA": str(real_imdb_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "compress-imdb: {'command': 'python -m tasks.imdb && python -m tasks.imdb compress'," in completed.stdout
    assert "'variant': 'litert-int8'" in completed.stdout
    assert not results_file.exists()
