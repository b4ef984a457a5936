import dataclasses
import json
import shutil
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.compress import litert, suite
from keras_apps.compress.config import Distillation, Pruning
from keras_apps.errors import UserError
from keras_apps.export.saved_model import export_model
from keras_apps.inference.serving import binary_classifier_endpoint, classifier_endpoint
from keras_apps.models.convnet import build_convnet
from keras_apps.models.lstm import build_lstm_classifier
from keras_apps.models.transformer import build_transformer_classifier
from tests.conftest import run_python

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


def train_dataset(batch_size=16):
    rng = np.random.default_rng(1)
    images, labels = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size, drop_remainder=True)


def test_every_technique_writes_its_files_and_measured_rows(subject, tmp_path):
    report = suite.Report(tmp_path, "tiny", subject.export_path)
    suite.quantize(subject, tmp_path, report)
    suite.prune(subject, train_dataset(), tmp_path, report, Pruning(sparsity=0.5, epochs=1, learning_rate=1e-3),
                loss=LOSS, seed=0)
    suite.distill(subject, subject.load_model(), lambda: build_convnet(filters=(2,), dropout=0.0), train_dataset(),
                  tmp_path, report, Distillation(seeds=1, epochs=1, learning_rate=1e-3, temperature=2.0, alpha=0.5),
                  loss=LOSS)
    report.finish()

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
    batches = subject.test_batches()
    check_keras_files_reload(tmp_path, rows, np.concatenate([inputs["images"] for inputs, _ in batches]),
                             np.concatenate([labels for _, labels in batches]))

    assert {row["export"] for row in rows} == {str(subject.export_path.resolve())}
    table = (tmp_path / "compression.md").read_text().splitlines()
    assert table[0] == "### tiny" and len(table) == 8 + len(rows) and table[4].startswith("| keras-float32 |")
    assert table[-3] == f"Export measured: `{subject.export_path.resolve()}`"
    assert table[-1] == 'keras-int8.keras loads with `keras_apps.compress.variants.load_quantized(path, "int8")`.'
    summary = suite.summary(rows)
    assert summary[0].startswith("LiteRT int8: ") and "scratch" in summary[1] and "(1 seeds)" in summary[1]

    with pytest.raises(UserError, match="already holds a compression report"):
        suite.Report(tmp_path, "again", subject.export_path)


def test_batch_1_latency_is_timed_on_one_example_and_throughput_on_the_whole_batch(tmp_path, monkeypatch):
    """The timing batch holds 64 examples: its first alone times batch 1."""
    timed = {}
    monkeypatch.setattr(suite, "median_latency_ms", lambda predict, inputs: timed.setdefault("latency", inputs))
    monkeypatch.setattr(suite, "examples_per_second", lambda predict, inputs: timed.setdefault("throughput", inputs))
    images = np.zeros((64, 28, 28), np.uint8)
    subject = suite.Subject(export_path=None, signature="serving_default", endpoint=None, label_output="class",
                            test_batches=lambda: [({"images": images}, np.zeros(64))], representative=[],
                            timing_batch={"images": images})
    (tmp_path / "model.tflite").write_bytes(b"model")
    suite.measure(subject, "tiny", tmp_path / "model.tflite", lambda inputs: np.zeros(len(inputs["images"])))
    assert timed["latency"]["images"].shape == (1, 28, 28)
    assert timed["throughput"]["images"].shape == (64, 28, 28)


def test_the_distilled_student_learns_with_the_temperature_and_alpha_its_row_records(tmp_path, monkeypatch):
    """The distiller gives way to the student alone, trained as is; the conversion and measurement to the row's
    own facts."""
    settings = []

    def distiller(student, teacher, **kwargs):
        settings.append(kwargs)
        return student

    def student():
        return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])

    monkeypatch.setattr(suite, "Distiller", distiller)
    monkeypatch.setattr(suite, "_to_litert", lambda subject, model, directory, name, variants: [(None, None, None)])
    monkeypatch.setattr(suite, "measure", lambda subject, variant, path, predict, **extra: extra)
    rows = []
    suite.distill(None, None, student, train_dataset(), tmp_path, types.SimpleNamespace(add=rows.append),
                  Distillation(seeds=1, epochs=1, learning_rate=1e-3, temperature=3.0, alpha=0.25), loss=LOSS)
    assert settings == [{"temperature": 3.0, "alpha": 0.25}]
    assert [(row["temperature"], row["alpha"]) for row in rows] == [(3.0, 0.25)] * 2


def test_a_failed_conversion_leaves_earlier_files_intact(subject, tmp_path, monkeypatch):
    suite.quantize(subject, tmp_path, suite.Report(tmp_path, "first", subject.export_path))
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
        suite.quantize(subject, again, suite.Report(again, "second", subject.export_path))
    assert {path.name: path.read_bytes() for path in again.glob("*.tflite")} == before
    assert not list(again.glob(".*tmp*"))
    # No report of the rows measured before the failure, as if whole; the folder takes the command again.
    assert not list(again.glob("compression.*"))
    suite.Report(again, "third", subject.export_path)


def test_pruning_again_in_an_interrupted_run_s_folder_writes_its_network_anew(subject, tmp_path):
    """The pruned network's SavedModel, left by a run interrupted after it, stopped the rerun with a traceback
    ("refusing to replace a directory"), its folder left with new and old variants side by side."""
    pruning = Pruning(sparsity=0.5, epochs=1, learning_rate=1e-3)
    for attempt in ("interrupted", "again"):
        suite.prune(subject, train_dataset(), tmp_path, suite.Report(tmp_path, attempt, subject.export_path),
                    pruning, loss=LOSS, seed=0)
    assert (tmp_path / "pruned-50-saved-model" / "saved_model.pb").is_file()


def test_the_calibration_set_is_as_many_distinct_examples_as_asked_or_refused():
    drawn = suite.sample(5, 8, seed=0)
    assert len(set(drawn)) == 5 and set(drawn) <= set(range(8))
    with pytest.raises(UserError, match="--representative-examples 9: there are only 8 training examples"):
        suite.sample(9, 8, seed=0)


def test_pruning_or_distilling_on_less_than_a_batch_is_refused(subject, tmp_path):
    with pytest.raises(UserError, match="--train-examples 127 gives no full batch of 128 for pruning and "
                                        "distillation; give at least 128"):
        suite.check_full_batch(127, 128, ["quantize", "prune", "distill"])
    suite.check_full_batch(127, 128, ["quantize"])
    suite.check_full_batch(128, 128, ["prune"])
    report, empty = suite.Report(tmp_path, "no batch", subject.export_path), train_dataset(batch_size=65)
    assert empty.cardinality() == 0  # 64 examples: no whole batch
    with pytest.raises(UserError, match="no full batch"):  # else a model pruned to no zero
        suite.prune(subject, empty, tmp_path, report, Pruning(sparsity=0.5, epochs=1, learning_rate=1e-3), loss=LOSS,
                    seed=0)
    with pytest.raises(UserError, match="no full batch"):  # else Keras's "decay_steps must be > 0"
        suite.distill(subject, subject.load_model(), lambda: build_convnet(filters=(2,), dropout=0.0), empty,
                      tmp_path, report, Distillation(seeds=1, epochs=1, learning_rate=1e-3, temperature=2.0,
                                                     alpha=0.5), loss=LOSS)
    assert report.rows == []


def test_a_damaged_model_keras_is_one_line_of_error(subject, tmp_path):
    damaged = tmp_path / "export"
    shutil.copytree(subject.export_path, damaged)
    with open(damaged / "model.keras", "r+b") as file:
        file.truncate(1000)
    with pytest.raises(UserError, match=r"model.keras changed since it was exported .*; export the model again$"):
        dataclasses.replace(subject, export_path=damaged).load_model()


def test_a_recurrent_model_is_measured_without_the_litert_variants_it_cannot_have(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = build_lstm_classifier(20, embedding_dim=4, units=2)
    export = export_model(model, tmp_path / "export", {"score": binary_classifier_endpoint(model)},
                          metadata={"task": "test"})
    tokens = np.random.default_rng(0).integers(1, 20, (64, 6)).astype(np.int32)
    subject = suite.Subject(
        export_path=export, signature="score", endpoint=binary_classifier_endpoint, label_output="label",
        test_batches=lambda: [({"inputs": tokens}, np.zeros(64, np.int64))],
        representative=[{"inputs": tokens[:1]}], timing_batch={"inputs": tokens},
    )
    (tmp_path / "report").mkdir()
    report = suite.Report(tmp_path / "report", "lstm", export)
    suite.quantize(subject, tmp_path / "report", report, network_only=True)
    report.finish()
    assert [row["variant"] for row in report.rows] == ["keras-float32", "keras-int8"]
    note = "LiteRT variants left out: LiteRT's built-in ops cannot run the model's recurrent layers (LSTM)"
    assert capsys.readouterr().out.startswith(note)
    assert note in (tmp_path / "report" / "compression.md").read_text()


def exported_subject(model, directory, images, labels):
    """A `Subject` of `model` exported into `directory`, measured on `images` (uint8 `[n, 28, 28]`)."""
    export = export_model(model, directory, {"serving_default": classifier_endpoint(model, IMAGES)},
                          metadata={"task": "test"})
    return suite.Subject(
        export_path=export, signature="serving_default",
        endpoint=lambda model: classifier_endpoint(model, IMAGES), label_output="class",
        test_batches=lambda: [({"images": images}, labels)],
        representative=[{"images": images[index:index + 1]} for index in range(8)],
        timing_batch={"images": images},
    )


def mixed_precision_subject(policy, tmp_path):
    """The exported subject of a tiny convnet built under the dtype `policy`."""
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(policy)
    try:
        model = build_convnet(filters=(4, 8), dropout=0.0)
    finally:
        keras.config.set_dtype_policy("float32")
    rng = np.random.default_rng(0)
    return exported_subject(model, tmp_path / "export", rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
                            rng.integers(0, 10, 64))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_an_export_in_mixed_precision_is_compressed_from_its_float32_network(policy, tmp_path):
    """Keras int8 refused the float16 model with a traceback, after a `keras-float32` row measured in float16; no
    LiteRT conversion of the bfloat16 SavedModel worked, the pruned network's neither."""
    subject = mixed_precision_subject(policy, tmp_path)
    report = suite.Report(tmp_path, "mixed", subject.export_path)
    suite.quantize(subject, tmp_path, report)
    suite.prune(subject, train_dataset(), tmp_path, report, Pruning(sparsity=0.5, epochs=1, learning_rate=1e-3),
                loss=LOSS, seed=0)
    report.finish()

    by_variant = {row["variant"]: row for row in report.rows}
    assert list(by_variant) == ["keras-float32", "keras-int8", *(f"litert-{variant}" for variant in litert.VARIANTS),
                                "pruned-50-litert-float32", "pruned-50-litert-int8"]
    assert by_variant["litert-float32"]["test_accuracy"] == by_variant["keras-float32"]["test_accuracy"]
    for name in ("keras-float32", "pruned-50"):
        reloaded = keras.saving.load_model(tmp_path / f"{name}.keras")
        assert {layer.dtype_policy.name for layer in reloaded._flatten_layers()} == {"float32"}
    note = f"The export computes in {policy}: every variant starts from its network in float32."
    assert note in (tmp_path / "compression.md").read_text()


RELOAD = """
import json, sys
import keras, numpy as np
from keras_apps.compress.variants import load_quantized

directory, data = sys.argv[1], np.load(sys.argv[2])
accuracies = {}
for name in sys.argv[3:]:
    path = f"{directory}/{name}"
    model = load_quantized(path, "int8") if name == "keras-int8.keras" else keras.saving.load_model(path)
    outputs = model.predict(data["inputs"], verbose=0)
    predicted = outputs.argmax(-1) if outputs.shape[-1] > 1 else (outputs[:, 0] >= 0).astype(int)
    accuracies[name] = float(np.mean(predicted == data["labels"]))
print(json.dumps(accuracies))
"""


def check_keras_files_reload(directory, rows, inputs, labels):
    """Each `.keras` file in `directory`, loaded in a fresh process as the report says (`keras-int8` with
    `load_quantized`), has the accuracy of its row: its own, or its LiteRT float32 conversion's."""
    np.savez(directory / "test-data.npz", inputs=inputs, labels=labels)
    names = sorted(path.name for path in directory.glob("*.keras"))
    process = run_python("-c", RELOAD, str(directory), str(directory / "test-data.npz"), *names)
    assert process.returncode == 0, process.stderr[-2000:]
    reloaded = json.loads(process.stdout.splitlines()[-1])
    by_file = {row["file"]: row for row in rows}
    for name in names:
        row = by_file.get(name) or by_file[name.replace(".keras", "-litert-float32.tflite")]
        assert reloaded[name] == row["test_accuracy"], name


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_a_transformer_s_variants_reload_as_the_report_says(policy, tmp_path):
    """Keras's own `load_model` refuses the quantized embedding of keras-hub's layers (keras-team/keras#21378):
    the int8 row was measured on the model in memory, of a file no one could load the plain way. In mixed
    precision, the pooling's cast stayed in float16 in the float32 copy, which LiteRT's built-in ops refuse."""
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(policy)
    try:
        model = build_transformer_classifier(20, 6, embedding_dim=8, num_heads=2, intermediate_dim=8, dropout=0.0)
    finally:
        keras.config.set_dtype_policy("float32")
    export = export_model(model, tmp_path / "export", {"score": binary_classifier_endpoint(model)},
                          metadata={"task": "test"})
    rng = np.random.default_rng(0)
    tokens, labels = rng.integers(1, 20, (64, 6)).astype(np.int32), rng.integers(0, 2, 64)
    subject = suite.Subject(
        export_path=export, signature="score", endpoint=binary_classifier_endpoint, label_output="label",
        test_batches=lambda: [({"inputs": tokens}, labels)],
        representative=[{"inputs": tokens[index:index + 1]} for index in range(8)], timing_batch={"inputs": tokens},
    )
    (tmp_path / "report").mkdir()
    report = suite.Report(tmp_path / "report", "transformer", export)
    suite.quantize(subject, tmp_path / "report", report, network_only=True)
    report.finish()
    assert [row["variant"] for row in report.rows] == [
        "keras-float32", "keras-int8", *(f"litert-{variant}" for variant in litert.VARIANTS)]
    check_keras_files_reload(tmp_path / "report", report.rows, tokens, labels)
    note = 'keras-int8.keras loads with `keras_apps.compress.variants.load_quantized(path, "int8")`.'
    assert note in (tmp_path / "report" / "compression.md").read_text()


def test_a_report_folder_whose_path_tensorflow_reads_as_a_pattern_is_refused_before_any_work(subject, tmp_path):
    """Its LiteRT variants are converted from SavedModels written in it, which TensorFlow could not read back."""
    with pytest.raises(UserError, match=r"^--run-dir .*c \[1\]: TensorFlow cannot read a SavedModel under a path "
                                        r"holding '\[' or '\]'"):
        suite.Report.create("test", tmp_path / "c [1]", "tiny", subject.export_path)
    assert not any(tmp_path.iterdir())


def test_pruning_twice_with_one_seed_gives_the_same_model(subject, tmp_path):
    """Its dropout drew other masks each run: the same `compress` command gave another pruned model."""
    keras.utils.set_random_seed(0)
    model = build_convnet(filters=(4, 8), dropout=0.5)
    export = export_model(model, tmp_path / "exports", {"serving_default": classifier_endpoint(model, IMAGES)},
                          metadata={"task": "test"})
    dropping = dataclasses.replace(subject, export_path=export)
    pruned = [suite.prune(dropping, train_dataset(), tmp_path / name, suite.Report(tmp_path / name, "tiny", export),
                          Pruning(sparsity=0.5, epochs=1, learning_rate=1e-3), loss=LOSS, seed=3).get_weights()
              for name in ("first", "second")]
    for first, second in zip(*pruned):
        np.testing.assert_array_equal(first, second)


def test_each_seed_s_students_start_alike_train_the_whole_budget_and_the_distilled_row_is_the_distiller_s(
        tmp_path, monkeypatch):
    """A seed's two students start from the same weights and train every epoch, their learning rate decaying over
    all of them; the row named `distilled` measures the student the distiller trained."""
    distilled, converted, initial, decay_steps = [], {}, {}, []
    cosine_decay = keras.optimizers.schedules.CosineDecay

    def distiller(student, teacher, **kwargs):
        distilled.append(student)
        return student

    def cosine(learning_rate, steps, **kwargs):
        decay_steps.append(steps)
        return cosine_decay(learning_rate, steps, **kwargs)

    def student():
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
        initial[id(model)] = model.get_weights()
        return model

    def to_litert(subject, model, directory, name, variants):
        converted[name] = model
        return [(None, None, None)]

    monkeypatch.setattr(suite, "Distiller", distiller)
    monkeypatch.setattr(keras.optimizers.schedules, "CosineDecay", cosine)
    monkeypatch.setattr(suite, "_to_litert", to_litert)
    monkeypatch.setattr(suite, "measure", lambda subject, variant, path, predict, **extra: extra)
    dataset = train_dataset()
    suite.distill(None, None, student, dataset, tmp_path, types.SimpleNamespace(add=lambda row: None),
                  Distillation(seeds=2, epochs=2, learning_rate=1e-3, temperature=3.0, alpha=0.25), loss=LOSS)
    assert list(converted) == [f"student-{method}-seed{seed}" for seed in (1, 2)
                               for method in ("scratch", "distilled")]
    assert [converted[f"student-distilled-seed{seed}"] for seed in (1, 2)] == distilled
    steps = 2 * int(dataset.cardinality())
    assert decay_steps == [steps] * 4
    assert all(int(model.optimizer.iterations.numpy()) == steps for model in converted.values())
    for seed in (1, 2):
        scratch, by_distillation = (initial[id(converted[f"student-{method}-seed{seed}"])]
                                    for method in ("scratch", "distilled"))
        for before, after in zip(scratch, by_distillation):
            np.testing.assert_array_equal(before, after)
    assert not np.array_equal(initial[id(converted["student-scratch-seed1"])][0],
                              initial[id(converted["student-scratch-seed2"])][0])


def test_the_headlines_compare_int8_with_float32_and_average_each_method_s_students():
    rows = [{"variant": "litert-float32", "size_bytes": 400, "test_accuracy": 0.9},
            {"variant": "litert-int8", "size_bytes": 100, "test_accuracy": 0.88},
            *({"variant": f"student-{method}-seed{seed}", "test_accuracy": accuracy}
              for method, accuracies in (("scratch", (0.5, 0.7)), ("distilled", (0.6, 0.9)))
              for seed, accuracy in enumerate(accuracies, 1))]
    int8, students = suite.summary(rows)
    assert int8 == f"LiteRT int8: {100 / 400:.0%} of the float32 file, accuracy {100 * (0.88 - 0.9):+.2f} points"
    assert students == (f"students, mean test accuracy over seeds: scratch {np.mean([0.5, 0.7]):.4f} (2 seeds), "
                        f"distilled {np.mean([0.6, 0.9]):.4f} (2 seeds)")


def test_the_reference_row_of_an_export_in_mixed_float16_is_measured_in_float32(tmp_path, monkeypatch):
    """`keras-float32` is the yardstick of every other row: the export's network computing in float32, not the
    export's own model computing in float16."""
    subject = mixed_precision_subject("mixed_float16", tmp_path)
    policies, keras_predictor = [], suite.Subject.keras_predictor

    def recording(self, model):
        policies.append({layer.dtype_policy.name for layer in model._flatten_layers()})
        return keras_predictor(self, model)

    monkeypatch.setattr(suite.Subject, "keras_predictor", recording)
    monkeypatch.setattr(suite, "litert_obstacle", lambda model: "not measured here")  # the Keras rows alone
    report = suite.Report(tmp_path, "mixed", subject.export_path)
    suite.quantize(subject, tmp_path, report)
    assert [row["variant"] for row in report.rows] == ["keras-float32", "keras-int8"]
    assert policies[0] == {"float32"}


def test_with_network_only_litert_converts_the_network_alone(subject, tmp_path, monkeypatch):
    """A text export's SavedModel also holds its vectorizer's vocabulary, which every `.tflite` would carry."""
    converted = []
    monkeypatch.setattr(litert, "convert", lambda path, variant, **kwargs: converted.append(path) or b"tflite")
    monkeypatch.setattr(suite.Subject, "litert_predictor", lambda self, content: None)
    monkeypatch.setattr(suite, "measure", lambda subject, variant, path, predict, **extra: variant)
    report = types.SimpleNamespace(add=lambda row: None, note=lambda text: None)
    for network_only, source in ((False, subject.export_path), (True, tmp_path / "network-saved-model")):
        converted.clear()
        suite.quantize(subject, tmp_path, report, network_only=network_only)
        assert converted == [source] * len(litert.VARIANTS)
