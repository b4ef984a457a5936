import pytest

from bench import __main__ as bench_main
from tests.conftest import run_cli, run_python


def test_an_unknown_run_is_named_with_the_choices(capsys):
    status, _, err = run_cli(bench_main.main, ["imdb", "--runs", "gpt"], capsys)
    assert status == 2 and "imdb has no run named gpt; choose from" in err


@pytest.mark.real_data
def test_a_shortened_benchmark_runs_and_records_nothing(real_imdb_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "imdb", "--runs", "nb-bow", "--train-examples", "1000",
                           "--epochs", "1", "--results", str(results_file),
                           env={"KERAS_APPS_DATA": str(real_imdb_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "imdb-nb-bow: {'command': 'python -m tasks.imdb'," in completed.stdout
    assert "'wall_seconds'" in completed.stdout
    assert not results_file.exists()
