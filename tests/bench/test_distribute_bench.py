import pytest

from bench import distribute, results


class Stopped(Exception):
    """Raised in place of a run, once what it was given is seen."""


def metrics(examples_per_second, step_seconds, accuracy):
    return {"model": "nb-bow", "params": 200001, "train_examples_per_second": examples_per_second,
            "train_step_seconds": step_seconds, "test": {"accuracy": accuracy}}


def test_the_row_sets_one_worker_beside_two():
    row = distribute.scaling_row("imdb", [], metrics(2000.0, 0.005, 0.9164), metrics(1500.0, 0.04, 0.9166),
                                 (25.04, 120.0))
    assert row["command"] == "python -m tasks.imdb --strategy {cpu,multi_worker}"
    assert row["examples_per_second"] == [2000.0, 1500.0] and row["scaling"] == 0.75
    assert row["step_seconds"] == [0.005, 0.04] and row["figures"] == [0.9164, 0.9166]
    assert row["figure"] == "test accuracy"
    assert row["wall_seconds"] == [25.0, 120.0] and row["machine"] == results.machine()


def test_scaling_rows_get_their_own_table():
    row = distribute.scaling_row("imdb", [], metrics(2000.0, 0.005, 0.9164), metrics(1500.0, None, 0.9166),
                                 (25.0, 120.0))
    text = results.table({"distribute-imdb": row})
    assert ("| `python -m tasks.imdb --strategy {cpu,multi_worker}` | nb-bow | 200,001 | 2,000 / 1,500 | 5.0 / – | "
            "0.75x | test accuracy 91.64 % / 91.66 % | 25 / 120 |") in text


def test_a_language_model_is_compared_by_its_validation_loss():
    one, two = ({"model": "default", "params": 10, "train_examples_per_second": 100.0, "train_step_seconds": 0.3,
                 "validation": {"loss": loss}} for loss in (2.0012, 2.0034))
    row = distribute.scaling_row("gpt", distribute.RUNS["gpt"], one, two, (60.0, 50.0))
    assert row["figure"] == "validation loss" and row["figures"] == [2.0012, 2.0034]
    assert "| validation loss 2.0012 / 2.0034 |" in results.table({"distribute-gpt": row})


def test_a_smoke_test_shortens_gpt_by_steps_it_has_no_examples_or_epochs_flag(monkeypatch):
    given = {}

    def one_worker(task, arguments, workdir):
        given[task] = arguments
        raise Stopped

    monkeypatch.setattr(distribute, "_one_worker", one_worker)
    for task in ("gpt", "imdb"):
        with pytest.raises(Stopped):
            next(distribute.run([task], 3, ["--epochs", "1"]))
    assert given["gpt"] == distribute.GPT_SMOKE_TEST and "--epochs" not in given["gpt"]
    assert given["imdb"] == ["--epochs", "1"]
