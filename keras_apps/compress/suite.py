"""The compression suite: each technique applied to one exported classifier, every variant measured alike.

    keras-float32          the export's Keras model computing in float32, the reference
    keras-int8             `model.quantize("int8")` (Keras quantizes Dense, EinsumDense and Embedding kernels),
                           measured as reloaded (`variants.load_quantized`)
    litert-<variant>       post-training quantization (`litert.VARIANTS`) of the export's SavedModel, or of
                           the network alone in float32 (`quantize` says when)
    pruned-<s>             fine-tuned under magnitude pruning to sparsity s, stripped, as LiteRT float32 and int8
    student-{scratch,distilled}-seed<n>
                           a small model trained alone, and from the teacher's soft outputs, same budget

Every variant starts from the export's network in float32, whatever precision it trained in (a mixed
precision model's weights are float32 already): Keras int8 refuses float16 layers, LiteRT's built-in ops have no
bfloat16 kernels, and a float32 row computes in float32.

A variant is a file in the output folder; its row in `compression.json` (and `compression.md`) has the
file's size raw and gzip'd, accuracy on the whole test split, batch-1 latency and batch-64 throughput. The
report is written when every variant is measured (`reports`).
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_apps import files
from keras_apps.compress import litert, reports
from keras_apps.compress.distiller import Distiller
from keras_apps.compress.keras_quantize import keras_quantize
from keras_apps.compress.measure import (
    accuracy, examples_per_second, file_sizes, markdown_table, median_latency_ms,
)
from keras_apps.compress.pruning import MagnitudePruning, PolynomialSparsity, sparsity_by_layer, strip_pruning
from keras_apps.compress.variants import load_quantized, with_dtype_policy
from keras_apps.errors import UserError
from keras_apps.export.saved_model import check_readable_by_tensorflow, write_saved_model
from keras_apps.settings import count_within

ROW_FIELDS = ("variant", "size_bytes", "gzip_bytes", "test_accuracy", "latency_ms_batch1",
              "examples_per_second_batch64")


@dataclass
class Subject:
    """An exported classifier and what measuring its variants takes.

    Attributes:
        export_path: the export version (a SavedModel with `model.keras` beside it).
        signature: the signature that LiteRT converts and every variant is measured through.
        endpoint: `model -> (function, input_signature)`, the same signature for a re-trained Keras model.
        label_output: the signature's output that holds the predicted label.
        test_batches: `() -> iterable of (inputs, labels)` over the whole test split, inputs a dict by name.
        representative: a list of single-example input dicts from the training split, for int8 calibration.
        timing_batch: a batch of 64 inputs for throughput; its first example times batch 1.
    """

    export_path: Path
    signature: str
    endpoint: object
    label_output: str
    test_batches: object
    representative: list
    timing_batch: dict

    def load_model(self):
        """A fresh copy of the export's Keras model computing in float32, without the optimizer it was trained
        with: what every variant starts from."""
        return with_dtype_policy(reports.load_export_model(self.export_path), "float32")

    def keras_predictor(self, model):
        function, input_signature = self.endpoint(model)
        compiled = tf.function(function, input_signature=input_signature)
        names = [spec.name for spec in input_signature]
        return lambda inputs: compiled(*(inputs[name] for name in names))[self.label_output].numpy()

    def litert_predictor(self, content):
        model = litert.LiteRTModel(content, signature=self.signature)
        return lambda inputs: model(**inputs)[self.label_output]


class Report:
    """The rows of the export at `export_path` measured so far, and notes; written by `finish`, once all are."""

    def __init__(self, directory, title, export_path):
        reports.check_no_report(directory)
        self.directory = Path(directory)
        self.title, self.export_path = title, export_path
        self.rows, self.notes = [], []

    @classmethod
    def create(cls, task, run_dir, title, export_path):
        """A report in a new `runs/<task>-compress/<timestamp>/` (or `run_dir`: `reports.output_folder`), which
        holds the SavedModels its LiteRT variants are converted from."""
        if run_dir is not None:
            check_readable_by_tensorflow(run_dir, "--run-dir")
        return cls(reports.output_folder(task, run_dir, export_path), title, export_path)

    def note(self, text):
        """A fact the table cannot show (variants left out, and why): printed now, written under the table."""
        print(text, flush=True)
        self.notes.append(text)

    def finish(self):
        """Writes `compression.json` and `.md` and prints the headlines."""
        reports.write_report(self.directory, self.rows, markdown_table(self.title, self.rows), self.export_path,
                             self.notes)
        print("\n".join(["", *summary(self.rows), f"report: {self.directory / reports.MARKDOWN}"]))

    def add(self, row):
        self.rows.append(row)
        print(f"{row['variant']}: accuracy {row['test_accuracy']:.4f}, {row['size_bytes']:,} bytes "
              f"({row['gzip_bytes']:,} gzip'd), {row['latency_ms_batch1']:.3f} ms at batch 1, "
              f"{row['examples_per_second_batch64']:,.0f} examples/s at batch 64", flush=True)


def measure(subject, variant, path, predict, **extra):
    """The row of one variant: `path`'s sizes, `predict`'s test accuracy and speed, and `extra` facts."""
    size, gzip_size = file_sizes(path)
    batch = subject.timing_batch
    single = {name: value[:1] for name, value in batch.items()}
    return {
        "variant": variant,
        "file": Path(path).name,
        "size_bytes": size,
        "gzip_bytes": gzip_size,
        "test_accuracy": accuracy(predict, subject.test_batches()),
        "latency_ms_batch1": median_latency_ms(predict, single),
        "examples_per_second_batch64": examples_per_second(predict, batch),
        **extra,
    }


def _save_keras(model, path):
    with files.atomic_path(path) as temporary:
        model.save(temporary)
    return path


def _write_bytes(path, content):
    with files.atomic_path(path) as temporary:
        temporary.write_bytes(content)
    return path


def quantize(subject, directory, report, *, network_only=False):
    """The Keras float32 reference, Keras int8, and the four LiteRT conversions of the export's SavedModel, or of
    the float32 model alone (`write_network`) with `network_only` or for an export in mixed precision (its
    SavedModel computes in float16 or bfloat16); the LiteRT ones left out, in a note said first, for a model
    LiteRT cannot convert (`litert_obstacle`)."""
    original = reports.load_export_model(subject.export_path)
    mixed = _mixed_precision(original)
    if mixed:
        report.note(f"The export computes in {mixed}: every variant starts from its network in float32.")
    model = with_dtype_policy(original, "float32")  # what `subject.load_model()` gives, without loading it again
    obstacle = litert_obstacle(model)
    if obstacle:
        report.note(f"LiteRT variants left out: {obstacle}")
    path = _save_keras(model, directory / "keras-float32.keras")
    report.add(measure(subject, "keras-float32", path, subject.keras_predictor(model), technique="reference"))

    model = subject.load_model()
    keras_quantize(model, "int8")  # the row lists the layers it quantized
    quantized = [layer.name for layer in model._flatten_layers() if getattr(layer, "quantization_mode", None)]
    path = _save_keras(model, directory / "keras-int8.keras")
    # Measured as reloaded: Keras's own `load_model` refuses some quantized layers (keras-team/keras#21378).
    report.add(measure(subject, "keras-int8", path, subject.keras_predictor(load_quantized(path, "int8")),
                       technique="keras int8 quantization", quantized_layers=quantized))
    report.note(f'{path.name} loads with `keras_apps.compress.variants.load_quantized(path, "int8")`.')
    if obstacle:
        return
    network = write_network(subject, subject.load_model(), directory, "network") if network_only or mixed else None
    for variant in litert.VARIANTS:
        content = litert.convert(network or subject.export_path, variant, signature=subject.signature,
                                 representative=subject.representative if variant == "int8" else None)
        path = _write_bytes(directory / f"litert-{variant}.tflite", content)
        report.add(measure(subject, f"litert-{variant}", path, subject.litert_predictor(content),
                           technique="post-training quantization"))


def _mixed_precision(model):
    """The dtype policies other than float32 that `model`'s layers compute in (`mixed_bfloat16`), or ""."""
    return ", ".join(sorted({layer.dtype_policy.name for layer in model._flatten_layers()} - {"float32"}))


def litert_obstacle(model):
    """Why LiteRT cannot convert `model`, or None: a recurrent layer (an LSTM) is a TensorFlow loop over a list
    of tensors of unknown batch size, which LiteRT's built-in ops refuse (`tf.TensorListReserve`)."""
    recurrent = sorted({type(layer).__name__ for layer in model._flatten_layers()
                        if isinstance(layer, keras.layers.RNN)})
    if recurrent:
        return (f"LiteRT's built-in ops cannot run the model's recurrent layers ({', '.join(recurrent)}), a loop "
                f"over tensors of unknown batch size")
    return None


def write_network(subject, model, directory, name):
    """`model` alone, through the subject's signature, as the SavedModel `directory/<name>-saved-model`.

    A text export also holds its vectorizer's vocabulary, which the converter copies into every `.tflite`
    file though the network never reads it (200,000 n-grams: 4.4 MB for IMDB's 0.8 MB network).
    """
    saved_model = directory / f"{name}-saved-model"
    if saved_model.is_dir():  # an interrupted run's, in this compression's folder (`reports.output_folder`)
        shutil.rmtree(saved_model)
    with files.atomic_path(saved_model, directory=True) as temporary:
        write_saved_model(model, temporary, {subject.signature: subject.endpoint(model)})
    return saved_model


def _to_litert(subject, model, directory, name, variants=("float32", "int8")):
    """Converts `model` (see `write_network`) to each of `variants`; yields `(variant, path, predict)`."""
    saved_model = write_network(subject, model, directory, name)
    for variant in variants:
        content = litert.convert(saved_model, variant, signature=subject.signature,
                                 representative=subject.representative if variant == "int8" else None)
        path = _write_bytes(directory / f"{name}-litert-{variant}.tflite", content)
        yield variant, path, subject.litert_predictor(content)


def prune(subject, train_dataset, directory, report, pruning, *, loss, seed):
    """Fine-tunes the export's model under magnitude pruning (a `Pruning`), strips it, converts it.

    Keras's own `fit` on the export's model, not the task runner's: there is no run folder, strategy or
    resume here, only a few epochs of fine-tuning whose callback applies the weight masks. Seeded, as the students
    are: its dropout would otherwise draw other masks each run, and the same command give another pruned model.
    """
    sparsity, epochs, learning_rate = pruning.sparsity, pruning.epochs, pruning.learning_rate
    keras.utils.set_random_seed(seed)
    model = subject.load_model()
    steps = _training_steps(train_dataset, epochs)
    # The sparsity ramps up over the first two thirds of the steps; the last third recovers at full sparsity.
    schedule = PolynomialSparsity(final=sparsity, end_step=max(1, 2 * steps // 3), frequency=max(1, steps // 30))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, steps_per_execution=1)
    print(f"Pruning to {sparsity:.0%} sparsity over {epochs} epochs of fine-tuning ({steps} steps)...")
    model.fit(train_dataset, epochs=epochs, callbacks=[MagnitudePruning(schedule)], shuffle=False, verbose=2)
    model = strip_pruning(model)
    layers = sparsity_by_layer(model)
    name = f"pruned-{round(sparsity * 100)}"
    _save_keras(model, directory / f"{name}.keras")
    for variant, path, predict in _to_litert(subject, model, directory, name):
        report.add(measure(subject, f"{name}-litert-{variant}", path, predict, technique="magnitude pruning",
                           sparsity_by_layer=layers))
    return model


def distill(subject, teacher, build_student, train_dataset, directory, report, distillation, *, loss):
    """For each seed, the student trained alone and trained by distillation (a `Distillation`), same budget."""
    epochs, learning_rate = distillation.epochs, distillation.learning_rate
    temperature, alpha = distillation.temperature, distillation.alpha
    for seed in range(1, distillation.seeds + 1):
        for method in ("scratch", "distilled"):
            keras.utils.set_random_seed(seed)
            student = build_student()
            model = student if method == "scratch" else Distiller(
                student, teacher, temperature=temperature, alpha=alpha
            )
            steps = _training_steps(train_dataset, epochs)
            schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
            model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
            print(f"Training the student {method}, seed {seed} ({epochs} epochs)...")
            model.fit(train_dataset, epochs=epochs, shuffle=False, verbose=2)  # The dataset shuffles itself.
            name = f"student-{method}-seed{seed}"
            _save_keras(student, directory / f"{name}.keras")
            (_, path, predict), = _to_litert(subject, student, directory, name, variants=("float32",))
            report.add(measure(subject, name, path, predict, technique=f"student, {method}", seed=seed,
                               params=student.count_params(), temperature=temperature, alpha=alpha))


def check_full_batch(examples, batch_size, techniques):
    """Refuses pruning or distillation (among `techniques`) on fewer training examples than one batch, before
    any work: their data drops the last partial batch, so they would train no step (a model pruned to no zero)."""
    trained = [what for technique, what in (("prune", "pruning"), ("distill", "distillation"))
               if technique in techniques]
    if trained and examples < batch_size:
        raise UserError(f"--train-examples {examples:,} gives no full batch of {batch_size} for "
                        f"{' and '.join(trained)}; give at least {batch_size}")


def _training_steps(train_dataset, epochs):
    """`epochs` times the dataset's batches, of which there must be some (`check_full_batch` says so earlier)."""
    batches = int(train_dataset.cardinality())
    if batches < 1:
        raise UserError("the training data holds no full batch: there is no step to train")
    return epochs * batches


def sample(count, population, seed):
    """`count` distinct indices of `population`, drawn with `seed`: the calibration set
    (`--representative-examples`, refused in one line when the training split holds fewer)."""
    count_within("--representative-examples", count, population, "training examples to calibrate with")
    return np.random.default_rng(seed).choice(population, count, replace=False)


def summary(rows):
    """Per-technique headlines: int8 against float32, and the students' mean accuracies over seeds."""
    by_variant = {row["variant"]: row for row in rows}
    lines = []
    if "litert-float32" in by_variant and "litert-int8" in by_variant:
        float32, int8 = by_variant["litert-float32"], by_variant["litert-int8"]
        lines.append(f"LiteRT int8: {int8['size_bytes'] / float32['size_bytes']:.0%} of the float32 file, "
                     f"accuracy {100 * (int8['test_accuracy'] - float32['test_accuracy']):+.2f} points")
    students = {}
    for row in rows:
        if row["variant"].startswith("student-"):
            students.setdefault(row["variant"].split("-")[1], []).append(row["test_accuracy"])
    if students:
        lines.append("students, mean test accuracy over seeds: " + ", ".join(
            f"{method} {np.mean(values):.4f} ({len(values)} seeds)" for method, values in students.items()
        ))
    return lines
