"""Post-training quantization: a SavedModel signature converted to LiteRT (`.tflite`), and run by LiteRT.

Conversion starts from the SavedModel, not from the Keras model: `TFLiteConverter.from_keras_model` does not
work with Keras 3 models (keras-team/keras#19108), and the SavedModel is what we ship anyway. The variants:

    float32         the graph as it is: the reference every other variant is compared with
    dynamic-range   weights stored as int8, activations float; no data needed, ~4x smaller
    float16         weights stored as float16, computed in float32 on a CPU; ~2x smaller
    int8            full integer: weights and activations int8, activation ranges calibrated on a
                    representative sample of the training inputs; only int8 kernels (inputs and outputs
                    keep their dtype, with quantize/dequantize at the edges)

The files run on the LiteRT interpreter (`ai-edge-litert`), which replaces the retiring `tf.lite.Interpreter`.
"""

import warnings

import numpy as np

from keras_apps.errors import UserError
from keras_apps.tensorflow_start import litert_notes_dropped

VARIANTS = ("float32", "dynamic-range", "float16", "int8")


def convert(saved_model_path, variant, *, signature="serving_default", representative=None):
    """The `.tflite` bytes of `signature` of the SavedModel at `saved_model_path`, quantized as `variant`.

    Args:
        representative: for `int8`, an iterable of input dictionaries (name to one batch), drawn from the
            training split, over which the converter records each activation's range.
    """
    import tensorflow as tf

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if variant == "int8" and representative is None:
        raise UserError("full-integer (int8) conversion needs a representative dataset of training inputs")
    samples = list(representative or ())
    if variant == "int8" and not samples:
        raise UserError("full-integer (int8) conversion needs a representative dataset; it is empty")
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_path), signature_keys=[signature])
        if variant != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if variant == "int8":
            converter.representative_dataset = lambda: iter(samples)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # int8 calibration runs the retiring tf.lite.Interpreter inside, which warns of it.
        with warnings.catch_warnings(), litert_notes_dropped():
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            return converter.convert()
    except Exception as exc:  # The converter raises ConverterError, ValueError and others, all multi-line.
        raise UserError(f"LiteRT {variant} conversion of {saved_model_path} failed: {_first_line(exc)}") from exc


def _first_line(exc):
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


class LiteRTModel:
    """One signature of a `.tflite` model on the LiteRT interpreter: `model(**inputs)` returns its outputs.

    Inputs are resized to each call's batch, so the same object serves batch 1 and batch 64 (a change of
    batch size costs a re-allocation; time calls of one size at a time).
    """

    def __init__(self, model_content, *, signature="serving_default", num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        try:
            with litert_notes_dropped():  # the XNNPACK delegate is applied, with its note, on the first allocation
                self.interpreter = Interpreter(model_content=model_content, num_threads=num_threads)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"cannot load the LiteRT model: {_first_line(exc)}") from exc
        signatures = self.interpreter.get_signature_list()
        if signature not in signatures:
            raise UserError(f"the LiteRT model has no {signature!r} signature (it has {sorted(signatures)})")
        self.runner = self.interpreter.get_signature_runner(signature)
        self.input_details = self.runner.get_input_details()

    def __call__(self, **inputs):
        for name, details in self.input_details.items():
            if name not in inputs:
                raise UserError(f"the LiteRT model needs the input {name!r}")
            inputs[name] = np.asarray(inputs[name], dtype=details["dtype"])
        return self.runner(**inputs)
