import time

import numpy as np
import pytest

from keras_apps.compress.measure import accuracy, examples_per_second, file_sizes, median_latency_ms


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
