import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.compress import litert, suite
from keras_apps.compress.config import Distillation, Pruning
from keras_apps.errors import UserError
from keras_apps.export.saved_model import export_model
from keras_apps.inference.serving import classifier_endpoint
from keras_apps.models.convnet import build_convnet

IMAGES = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")
LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_convnet(filters=(4, 8), dropout=0.0)
    export = export_model(model, tmp_path_factory.mktemp("exports"),
                          {"serving_default": classifier_endpoint(model, IMAGES)}, metadata={"task": "test"})
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (128, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 128)
    return suite.Subject(
        export_path=export, signature="serving_default",
        endpoint=lambda model: classifier_endpoint(model, IMAGES), label_output="class",
        test_batches=lambda: [({"images": images[:64]}, labels[:64]), ({"images": images[64:]}, labels[64:])],
        representative=[{"images": images[index:index + 1]} for index in range(8)],
        timing_batch={"images": images[:64]},
    )


def train_dataset():
    rng = np.random.default_rng(1)
    images, labels = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)


def test_every_technique_writes_its_files_and_measured_rows(subject, tmp_path):
    report = suite.Report(tmp_path, "tiny")
    suite.quantize(subject, tmp_path, report)
    suite.prune(subject, train_dataset(), tmp_path, report, Pruning(sparsity=0.5, epochs=1, learning_rate=1e-3),
                loss=LOSS)
    suite.distill(subject, subject.load_model(), lambda: build_convnet(filters=(2,), dropout=0.0), train_dataset(),
                  tmp_path, report, Distillation(seeds=1, epochs=1, learning_rate=1e-3, temperature=2.0, alpha=0.5),
                  loss=LOSS)

    rows = json.loads((tmp_path / "compression.json").read_text())
    assert [row["variant"] for row in rows] == [
        "keras-float32", "keras-int8", *(f"litert-{variant}" for variant in litert.VARIANTS),
        "pruned-50-litert-float32", "pruned-50-litert-int8", "student-scratch-seed1", "student-distilled-seed1",
    ]
    for row in rows:
        assert set(suite.ROW_FIELDS) <= set(row) and (tmp_path / row["file"]).stat().st_size == row["size_bytes"]
        assert 0 <= row["test_accuracy"] <= 1 and row["latency_ms_batch1"] > 0
        assert row["examples_per_second_batch64"] > 0 and 0 < row["gzip_bytes"]
    by_variant = {row["variant"]: row for row in rows}
    # The reference keeps the export's accuracy, and LiteRT float32 agrees with it exactly.
    assert by_variant["litert-float32"]["test_accuracy"] == by_variant["keras-float32"]["test_accuracy"]
    assert by_variant["keras-int8"]["quantized_layers"] == ["logits"]  # Keras 3.15 leaves convolutions in float.
    pruned = by_variant["pruned-50-litert-float32"]
    assert all(value == pytest.approx(0.5, abs=0.01) for value in pruned["sparsity_by_layer"].values())
    assert pruned["gzip_bytes"] < 0.8 * by_variant["litert-float32"]["gzip_bytes"]
    assert keras.saving.load_model(tmp_path / "student-distilled-seed1.keras").count_params() == rows[-1]["params"]

    table = (tmp_path / "compression.md").read_text().splitlines()
    assert table[0] == "### tiny" and len(table) == 4 + len(rows) and table[4].startswith("| keras-float32 |")
    summary = suite.summary(rows)
    assert summary[0].startswith("LiteRT int8: ") and "scratch" in summary[1] and "(1 seeds)" in summary[1]

    with pytest.raises(UserError, match="already holds a compression report"):
        suite.Report(tmp_path, "again")


def test_a_failed_conversion_leaves_earlier_files_intact(subject, tmp_path, monkeypatch):
    suite.quantize(subject, tmp_path, suite.Report(tmp_path, "first"))
    before = {path.name: path.read_bytes() for path in tmp_path.glob("*.tflite")}
    real_convert = litert.convert

    def failing_int8(path, variant, **kwargs):
        if variant == "int8":
            raise UserError("LiteRT int8 conversion failed: out of memory")
        return real_convert(path, variant, **kwargs)

    monkeypatch.setattr(litert, "convert", failing_int8)
    again = tmp_path / "again"
    again.mkdir()
    for path in tmp_path.glob("*.tflite"):
        (again / path.name).write_bytes(path.read_bytes())
    with pytest.raises(UserError, match="out of memory"):
        suite.quantize(subject, again, suite.Report(again, "second"))
    assert {path.name: path.read_bytes() for path in again.glob("*.tflite")} == before
    assert not list(again.glob(".*tmp*"))


def test_the_calibration_set_is_as_many_distinct_examples_as_asked_or_refused():
    drawn = suite.sample(5, 8, seed=0)
    assert len(set(drawn)) == 5 and set(drawn) <= set(range(8))
    with pytest.raises(UserError, match="--representative-examples 9: there are only 8 training examples"):
        suite.sample(9, 8, seed=0)
