import time

import numpy as np
import pytest

from keras_apps.compress.measure import (
    TRANSLATION_SCORES, accuracy, examples_per_second, file_sizes, language_model_table, median_latency_ms,
)


def test_file_sizes_see_zeros_only_once_compressed(tmp_path):
    zeros, noise = tmp_path / "zeros.bin", tmp_path / "noise.bin"
    zeros.write_bytes(bytes(100_000))
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    assert file_sizes(zeros)[0] == file_sizes(noise)[0] == 100_000
    assert file_sizes(zeros)[1] < 1_000 and file_sizes(noise)[1] > 99_000


def test_accuracy_counts_over_all_batches():
    batches = [({"x": np.array([0, 1, 2])}, np.array([0, 1, 0])), ({"x": np.array([3])}, np.array([3]))]
    assert accuracy(lambda inputs: inputs["x"], batches) == 3 / 4
    with pytest.raises(ValueError):
        accuracy(lambda inputs: inputs["x"], [])


def test_speed_figures_time_the_calls():
    calls = []
    inputs = {"x": np.zeros((64, 3))}

    def predict(batch):
        calls.append(batch)
        time.sleep(0.02)

    # Each call sleeps 20 ms: the median is at least that, and well under a second however loaded the machine.
    assert 20 <= median_latency_ms(predict, inputs, warmup=2, runs=5) < 1000 and len(calls) == 7
    assert 64 < examples_per_second(predict, inputs, warmup=1, runs=3) <= 3201  # 64 / 0.02 s, with rounding


def test_a_language_model_s_table_reads_each_variant_against_float32():
    rows = [{"variant": "float32", "compute_dtype": "bfloat16", "size_bytes": 4000, "gzip_bytes": 3600,
             "validation_loss": 1.5, "decoding_tokens_per_second_batch1": 800.0,
             "decoding_tokens_per_second_batch64": 20_000.0},
            {"variant": "int8", "compute_dtype": "bfloat16", "size_bytes": 1000, "gzip_bytes": 800,
             "validation_loss": 1.51, "decoding_tokens_per_second_batch1": 2400.0,
             "decoding_tokens_per_second_batch64": 10_000.0}]
    table = language_model_table("GPT", rows)
    assert "| int8 | bfloat16 | 1.0 | 25% | 0.8 | 1.5100 | +0.0100 | 2,400 | 3.00x | 10,000 | 0.50x |" in table
    header, rule = table.splitlines()[2:4]
    assert header.count("|") == rule.count("|") == 12 and header.endswith("vs float32 |")


def test_a_translator_s_table_reads_its_scores_against_float32():
    speeds = {"decoding_tokens_per_second_batch1": 500.0, "decoding_tokens_per_second_batch64": 9_000.0}
    rows = [{"variant": "float32", "compute_dtype": "float32", "size_bytes": 4000, "gzip_bytes": 3600, "bleu": 40.5,
             "rouge1_f1": 0.7, "rouge2_f1": 0.5, **speeds},
            {"variant": "int8", "compute_dtype": "float32", "size_bytes": 1200, "gzip_bytes": 900, "bleu": 40.25,
             "rouge1_f1": 0.69, "rouge2_f1": 0.505, **speeds},
            {"variant": "bfloat16", "compute_dtype": "bfloat16", "size_bytes": 2000, "gzip_bytes": 1900,
             "bleu": 40.5, "rouge1_f1": 0.699999, "rouge2_f1": 0.5, **speeds}]
    table = language_model_table("Translator", rows, TRANSLATION_SCORES)
    assert ("| int8 | float32 | 1.2 | 30% | 0.9 | 40.25 | -0.25 | 0.6900 | -0.0100 | 0.5050 | +0.0050 | 500 | 1.00x "
            "| 9,000 | 1.00x |") in table
    assert "| bfloat16 | bfloat16 | 2.0 | 50% | 1.9 | 40.50 | +0.00 | 0.7000 | +0.0000 | 0.5000 | +0.0000 |" in table
    header, rule = table.splitlines()[2:4]
    assert "| BLEU | vs float32 | ROUGE-1 F1 |" in header and header.count("|") == rule.count("|") == 16
