"""The machine fingerprint: its description fields, and measurements that are real timings."""

import os
import time
from pathlib import Path

from keras_apps import machine


def test_the_description_names_the_cpu_its_cores_and_tensorflow_s_settings():
    described = machine.fingerprint(speeds=())
    assert described["cores"] == os.cpu_count() and described["name"] == f"{os.cpu_count()} x {described['cpu']}"
    assert set(described["vector_extensions"]) <= set(machine.VECTOR_EXTENSIONS)
    assert described["tensorflow"].count(".") == 2 and isinstance(described["onednn"], bool)
    assert set(described["threads"]) == {"intra_op", "inter_op"} and "matmul_gflops" not in described


def test_the_vector_extensions_are_those_the_cpu_flags_name(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 avx2 fma avx512f\n\n"
                       "processor\t: 1\nmodel name\t: Other CPU\nflags\t\t: amx_tile\n")
    monkeypatch.setattr(machine, "Path", lambda path: cpuinfo if path == "/proc/cpuinfo" else Path(path))
    described = machine.fingerprint(speeds=())
    assert described["cpu"] == "Test CPU" and described["vector_extensions"] == ["avx2", "fma", "avx512f"]


def test_onednn_is_reported_on_unless_the_environment_turns_it_off(monkeypatch):
    """TensorFlow enables oneDNN on x86 unless `TF_ENABLE_ONEDNN_OPTS=0`."""
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    assert machine.fingerprint(speeds=())["onednn"] is True
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert machine.fingerprint(speeds=())["onednn"] is False


def test_thread_pools_set_by_the_environment_are_reported(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    assert machine.fingerprint(speeds=())["threads"] == {"intra_op": 1, "inter_op": "default"}


def test_a_measured_fingerprint_carries_all_three_speeds(monkeypatch):
    monkeypatch.setitem(machine.SPEEDS, "matmul_gflops", lambda: 98.04)
    monkeypatch.setitem(machine.SPEEDS, "convolution_ms", lambda: 41.26)
    monkeypatch.setitem(machine.SPEEDS, "transformer_step_ms", lambda: None)  # XLA could not compile it
    measured = machine.fingerprint()
    speeds = ("matmul_gflops", "convolution_ms", "transformer_step_ms")
    assert tuple(measured[speed] for speed in speeds) == (98.0, 41.3, None)
    assert "convolution_ms" not in machine.fingerprint(speeds=("matmul_gflops",))


def test_the_whole_fingerprint_is_measured_in_seconds():
    """Every benchmark measures it once: it must stay a matter of seconds, not become a benchmark itself."""
    start = time.perf_counter()
    measured = machine.fingerprint()
    assert time.perf_counter() - start < 60
    assert measured["matmul_gflops"] > 0 and measured["convolution_ms"] > 0
    assert set(measured) >= {"name", "cpu", "cores", "vector_extensions", "gpus", "tensorflow", "onednn", "threads",
                             "transformer_step_ms"}


def test_a_timing_is_the_median_of_its_repeats_after_an_untimed_warm_up(monkeypatch):
    clock = iter([0.0, 1.0, 10.0, 15.0, 20.0, 22.0])  # repeats of 1, 5 and 2 s; the warm-up reads no clock
    monkeypatch.setattr(machine.time, "perf_counter", lambda: next(clock))
    calls = []
    assert machine._median_seconds(lambda: calls.append(1), repeats=3) == 2.0
    assert len(calls) == 4
