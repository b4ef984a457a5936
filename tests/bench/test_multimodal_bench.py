"""The multimodal benchmark's row over several seeds; the runs themselves are tested in
tests/tasks/test_multimodal.py, which also feeds a real `metrics.json` to it."""

import pytest

from bench.multimodal import fusion_row


def seed_metrics(clean, train_seconds, examples_per_second, peak_memory_mb):
    return {"model": "late", "params": 5_000, "epochs": 5, "test": {"accuracy": clean},
            "train_seconds": train_seconds, "train_examples_per_second": examples_per_second,
            "peak_memory_mb": peak_memory_mb,
            "extra": {"conditions": {"clean": clean, "degraded": clean / 2}, "degradations": {}, "sense_shares": {}}}


def test_every_figure_of_a_row_over_seeds_is_over_all_of_them():
    """Seed 0's training time sat beside the seeds' mean wall time: the README showed a 143 s command whose
    training took 144 s."""
    row = fusion_row("late", [(seed_metrics(0.9, 144.0, 500.0, 900.0), 150.0),
                              (seed_metrics(0.8, 130.0, 560.0, 950.0), 136.0)])
    assert row["test_accuracy"] == row["conditions"]["clean"] == pytest.approx(0.85)
    assert row["conditions_by_seed"] == [{"clean": 0.9, "degraded": 0.45}, {"clean": 0.8, "degraded": 0.4}]
    assert (row["train_seconds"], row["wall_seconds"]) == (137.0, 143.0)
    assert row["train_examples_per_second"] == 530.0 and row["peak_memory_mb"] == 950.0
