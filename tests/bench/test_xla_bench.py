import pytest

from bench import __main__ as bench_main
from bench import results, xla
from tests.conftest import run_cli, run_python


def metrics(step_seconds):
    return {"model": "resnet", "params": 176090, "train_step_seconds": step_seconds}


def test_the_row_compares_the_steady_step_times_of_both_runs():
    row = xla.comparison_row("mnist", xla.RUNS["mnist"], metrics(0.120), metrics(0.080), batch_size=128)
    assert row["command"] == "python -m tasks.mnist --train-examples 20000 --epochs 1"
    assert (row["model"], row["params"], row["batch_size"]) == ("resnet", 176090, 128)
    assert (row["step_seconds"], row["xla_step_seconds"], row["xla_speedup"]) == (0.120, 0.080, 1.5)
    assert row["xla_compiled"] and row["machine"] == results.machine()


def test_a_model_xla_cannot_compile_is_recorded_as_not_compiled():
    row = xla.comparison_row("imdb", xla.RUNS["imdb"], metrics(0.006), None, batch_size=128)
    assert not row["xla_compiled"] and row["step_seconds"] == 0.006
    assert row["xla_step_seconds"] is None and row["xla_speedup"] is None


def test_a_run_without_a_step_after_the_warm_up_has_no_speedup():
    row = xla.comparison_row("gpt", xla.SMOKE_TEST["gpt"], metrics(0.3), metrics(None), batch_size=32)
    assert row["xla_compiled"] and row["xla_step_seconds"] is None and row["xla_speedup"] is None


def test_every_task_has_a_run_and_a_smoke_test():
    assert set(xla.RUNS) == set(xla.SMOKE_TEST) == {"mnist", "imdb", "translate", "gpt"}
    for arguments in [*xla.RUNS.values(), *xla.SMOKE_TEST.values()]:
        assert not set(arguments) & set(xla.FLAGS.values())  # the bench adds the XLA flag itself


def test_an_unknown_run_is_named_with_the_choices(capsys):
    status, _, err = run_cli(bench_main.main, ["xla", "--runs", "bert"], capsys)
    assert status == 2 and "xla has no run named bert; choose from mnist, imdb, translate, gpt" in err


@pytest.mark.real_data
def test_a_smoke_run_times_both_runs_and_records_nothing(real_imdb_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "xla", "--runs", "imdb", "--epochs", "1", "--results", str(results_file),
                           env={"KERAS_APPS_DATA": str(real_imdb_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "xla-imdb: {'command': 'python -m tasks.imdb --train-examples 4000" in completed.stdout
    assert "'xla_speedup'" in completed.stdout and "--jit-compile" in completed.stdout
    assert not results_file.exists()
