"""The translation benchmark's harness, with the task's run replaced by figures. The task's real run is tested
in tests/tasks/test_translate.py, which also feeds a real `metrics.json` to `translate_row`."""

from bench import translate

METRICS = {
    "model": "transformer", "params": 1_000_000, "epochs": 1, "train_seconds": 40.0, "peak_memory_mb": 900.0,
    "test": {"bleu": 12.1, "rouge1_f1": 0.45, "rouge2_f1": 0.21, "masked_accuracy": 0.3, "loss": 3.0},
    "extra": {"direction": "eng-spa", "beam_size": 4, "test_sentences": 20, "bleu_signature": "nrefs:1",
              "test_translate_seconds": 5.0,
              "decoding": {"tokens": 30, "repeats": 3, "batches": [
                  {"batch_size": 1, "cached_tokens_per_second": 210.456, "uncached_tokens_per_second": 70.123},
                  {"batch_size": 32, "cached_tokens_per_second": 3000.0, "uncached_tokens_per_second": 900.0}]}},
}


def test_a_smoke_run_trains_a_small_model_on_a_slice_and_scores_a_few_sentences(monkeypatch):
    calls = []
    monkeypatch.setattr(translate, "run_task", lambda *call: calls.append(call) or (METRICS, 61.04))
    row = translate.bench_run("default", ["--train-examples", "500", "--epochs", "1"])
    ((task, arguments, _, limits),) = calls
    assert (task, arguments) == ("translate", [])
    assert limits == ["--train-pairs", "500", "--epochs", "1", *translate.SMOKE_MODEL, "--test-sentences", "20"]
    assert row["command"] == "python -m tasks.translate" and row["wall_seconds"] == 61.0


def test_the_row_keeps_the_scores_and_the_decoding_speed_of_each_batch_size():
    row = translate.translate_row("default", METRICS, 61.04)
    assert (row["bleu"], row["rouge1_f1"], row["rouge2_f1"], row["test_sentences"]) == (12.1, 0.45, 0.21, 20)
    assert row["decoding"] == {"1": {"cached_tokens_per_second": 210.46, "uncached_tokens_per_second": 70.12},
                               "32": {"cached_tokens_per_second": 3000.0, "uncached_tokens_per_second": 900.0}}
    assert row["decoding_tokens"] == 30 and row["keras_io_rouge"] == translate.KERAS_IO_ROUGE
