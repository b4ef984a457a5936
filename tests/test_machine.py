"""The machine fingerprint: its description fields, and measurements that are real timings."""

import os

from keras_apps import machine


def test_the_description_names_the_cpu_its_cores_and_tensorflow_s_settings():
    described = machine.fingerprint(measure=False)
    assert described["cores"] == os.cpu_count() and described["name"] == f"{os.cpu_count()} x {described['cpu']}"
    assert set(described["vector_extensions"]) <= set(machine.VECTOR_EXTENSIONS)
    assert described["tensorflow"].count(".") == 2 and isinstance(described["onednn"], bool)
    assert set(described["threads"]) == {"intra_op", "inter_op"} and "matmul_gflops" not in described


def test_each_measurement_times_its_work():
    assert machine.matmul_gflops(size=128, repeats=2) > 0.1
    assert machine.convolution_milliseconds(repeats=1) > 0
    step = machine.transformer_step_milliseconds(repeats=1)
    assert step is None or step > 0


def test_a_measured_fingerprint_carries_all_three_speeds(monkeypatch):
    monkeypatch.setattr(machine, "matmul_gflops", lambda: 98.04)
    monkeypatch.setattr(machine, "convolution_milliseconds", lambda: 41.26)
    monkeypatch.setattr(machine, "transformer_step_milliseconds", lambda: None)  # XLA could not compile it
    measured = machine.fingerprint()
    assert (measured["matmul_gflops"], measured["convolution_ms"], measured["transformer_step_ms"]) == (98.0, 41.3, None)
