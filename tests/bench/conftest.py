"""The benchmarks' rows carry the machine's fingerprint; here a fixed one, so that tests of the harness need
not measure the machine (tests/test_machine.py does)."""

import pytest

from bench import results

FINGERPRINT = {"name": "2 x CPU", "cpu": "CPU", "cores": 2, "matmul_gflops": 98.0, "convolution_ms": 41.3,
               "transformer_step_ms": 12.5}


@pytest.fixture(autouse=True)
def fixed_fingerprint(monkeypatch):
    monkeypatch.setattr(results, "machine_fingerprint", lambda: FINGERPRINT)
    return FINGERPRINT
