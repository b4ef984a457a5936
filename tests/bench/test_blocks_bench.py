"""The blocks benchmark's harness, with the task's runs replaced by figures: both block kinds run with the same
arguments, and the row sets them side by side."""

import pytest

from bench import blocks, results


def metrics(step_seconds, params=100_000, **test):
    return {"model": "transformer", "params": params, "train_step_seconds": step_seconds, "train_seconds": 300.0,
            "test": test}


def test_each_task_runs_once_with_each_kind_of_block(monkeypatch):
    calls = []

    def run_task(task, arguments, workdir, limits):
        calls.append((task, arguments, limits))
        return metrics(0.02 if arguments[-1] == "keras-hub" else 0.03, accuracy=0.88), 100.0

    monkeypatch.setattr(blocks, "run_task", run_task)
    row = blocks.bench_task("imdb", [])
    assert calls == [("imdb", [*blocks.RUNS["imdb"], "--blocks", kind], []) for kind in ("keras-hub", "explained")]
    assert row["command"] == "python -m tasks.imdb --model transformer --epochs 1 --blocks {keras-hub,explained}"
    assert row["blocks_step_ratio"] == 1.5 and row["figures"] == [0.88, 0.88] and row["figure"] == "test accuracy"
    blocks.bench_task("gpt", ["--epochs", "1"])
    assert calls[-1][1] == [*blocks.SMOKE_TEST["gpt"], "--blocks", "explained"]


def test_a_translator_is_compared_by_bleu_and_a_language_model_by_its_loss():
    translator = blocks.comparison_row("translate", [], metrics(0.1, bleu=12.14), metrics(0.2, bleu=11.96))
    assert translator["figure"] == "test BLEU" and translator["figures"] == [12.14, 11.96]
    gpt = {"model": "nanogpt-cpu", "params": 10, "train_step_seconds": None, "train_seconds": 1.0,
           "validation": {"loss": 1.89}}
    row = blocks.comparison_row("gpt", [], gpt, gpt)
    assert row["figure"] == "validation loss" and row["blocks_step_ratio"] is None
    table = results.table({"blocks-translate": translator, "blocks-gpt": row})
    assert ("| `python -m tasks.translate --blocks {keras-hub,explained}` | transformer | 100,000 | test BLEU 12.1 / "
            "12.0 | 100.0 / 200.0 | 2.00x | 300 / 300 |") in table
    assert "| validation loss 1.8900 / 1.8900 | – / – | – |" in table


def test_two_networks_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="differ in size"):
        blocks.comparison_row("imdb", [], metrics(0.1, accuracy=0.9), metrics(0.1, params=5, accuracy=0.9))
