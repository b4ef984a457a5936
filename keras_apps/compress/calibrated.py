"""Calibrated 4-bit quantization: Keras's GPTQ and AWQ, which choose each layer's 4-bit weights by how its
inputs on real data use them, rather than rounding each weight alone as plain int4 does.

    gptq   rounds a layer's kernel one input row at a time, largest inputs first, and moves each row's rounding
           error onto the rows not yet rounded, weighted by the covariance of the layer's inputs (Frantar et
           al. 2022)
    awq    scales up the kernel rows of inputs with large magnitudes before rounding and divides the scale
           back out after, so those rows lose less (Lin et al. 2023)

Both calibrate block after block: the inputs of a block are the outputs of the quantized blocks before it.
Two defects of Keras 3.15 are worked around here (both fixed after 3.15.1): calibration saw no inputs, and GPTQ
spread each rounding error with the wrong matrix (`_calibration_sees_float_calls`, `_gptq_corrects_as_published`).
Two more stand between a saved copy and its reload: its zero points are not saved, and its layers come back in
float (`_saves_zero_points`, `uncalibrated`).
Keras places the windows from an offset drawn from Python's string hash, which changes from one process to
the next unless `PYTHONHASHSEED` is set.
"""

import contextlib

import keras
from keras import ops
from keras.src.quantizers import gptq as keras_gptq

from keras_apps.compress.keras_quantize import keras_quantize
from keras_apps.compress.weight_formats import CALIBRATED
from keras_apps.errors import UserError

GROUP_SIZE = 128  # inputs sharing a scale and zero point: as plain int4's default, so the two compare alike


def quantize(model, mode, *, dataset, tokenizer, structure, sequence_length, windows=128):
    """Quantizes `model`'s Dense and EinsumDense kernels in place by `mode` to 4 bits in groups of
    `GROUP_SIZE` inputs, calibrated on `windows` windows of `sequence_length` tokens spread over `dataset`.

    Args:
        dataset: a list of texts (which `tokenizer.tokenize` reads) or of token-id arrays.
        structure: `{"pre_block_layers": [...], "sequential_blocks": [...]}`: what turns token ids into the
            first block's input, and the blocks in order (Keras's `quantization_layer_structure`).
    """
    config = _config(mode, dataset=dataset, tokenizer=tokenizer, num_samples=windows, sequence_length=sequence_length,
                     quantization_layer_structure=structure)
    with _calibration_sees_float_calls(model, mode), _gptq_corrects_as_published():
        keras_quantize(model, mode, config=config)
    _saves_zero_points(model)


def uncalibrated(model, mode):
    """`model` (float, changed in place) with the 4-bit variables of `mode` in place of its Dense and EinsumDense
    kernels, as `quantize` makes them before calibrating: what a saved copy's weights load into.

    Keras saves no quantized dtype policy for the layers inside keras-hub's blocks (keras-team/keras#21378), and
    its `quantize` would calibrate again: each layer is given the variables alone."""
    config = _config(mode, dataset=None, tokenizer=None)
    for layer in model._flatten_layers():
        if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense)):
            layer.quantize(mode, config=config)
            del layer._kernel  # as calibration does: the 4-bit kernel replaces it
    _saves_zero_points(model)


def _saves_zero_points(model):
    """Keras 3.15 saves a GPTQ or AWQ layer without its zero points (`save_own_variables` takes them from
    `_get_kernel_with_merged_lora`, which gives none in these modes), and a reload would round every group about
    zero: each quantized layer of `model` is made to give its own."""
    for layer in model._flatten_layers():
        if hasattr(layer, "kernel_zero"):
            layer._get_kernel_with_merged_lora = lambda layer=layer: (layer.kernel, None, layer.kernel_zero)


def _config(mode, **calibration):
    """Keras's configuration of `mode` in groups of `GROUP_SIZE` inputs (GPTQ's columns rounded largest first)."""
    if mode not in CALIBRATED:
        raise UserError(f"no {mode!r} calibrated quantization; choose from {', '.join(CALIBRATED)}")
    if mode == "gptq":
        return keras.quantizers.GPTQConfig(group_size=GROUP_SIZE, activation_order=True, **calibration)
    return keras.quantizers.AWQConfig(group_size=GROUP_SIZE, **calibration)


@contextlib.contextmanager
def _calibration_sees_float_calls(model, mode):
    """Keras 3.15's GPTQ and AWQ record each layer's inputs by wrapping its `call`, but a layer switched to a
    quantized mode runs `quantized_call` instead: calibration saw no inputs and both fell back to plain
    rounding (keras-team/keras#23512, fixed after 3.15.1). Until a layer is calibrated, this sends its
    quantized calls to `call`, which computes with the float kernel that calibration measures."""
    layers = [layer for layer in model._flatten_layers()
              if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense))]

    def routed(layer):
        def quantized_call(*args, **kwargs):
            if getattr(layer, f"is_{mode}_calibrated", False):
                return type(layer).quantized_call(layer, *args, **kwargs)
            return layer.call(*args, **kwargs)
        return quantized_call

    for layer in layers:
        layer.quantized_call = routed(layer)
    try:
        yield
    finally:
        for layer in layers:
            del layer.quantized_call


@contextlib.contextmanager
def _gptq_corrects_as_published():
    """GPTQ moves a column's rounding error onto the columns not yet rounded through the upper Cholesky factor
    of the inverse Hessian, taken in the order the columns are rounded: its row for a column accounts for the
    columns rounded before it. Keras 3.15 passes rows of the inverse itself, right for the first column of a
    block only (keras-team/keras#23481, fixed after 3.15.1). This hands Keras's loop the factor, in the
    columns' own order, as the loop permutes it back to the rounding order.

    The inverse and its factor are computed in float64: a layer's inputs over a few calibration windows (a
    Transformer's feed-forward output, 4 x its width) give a Hessian whose condition number reaches 1e5 even
    damped, and Keras's float32 inverse of it is off by more than its smallest eigenvalues, no longer positive
    definite: its Cholesky factor came back NaN and quantization failed, or not, by where the windows fell."""
    original, original_linalg = keras_gptq.gptq_quantize_matrix, keras_gptq.linalg

    def quantize_matrix(weights_transpose, inv_hessian, *, activation_order=False, order_metric=None, **options):
        order = ops.arange(ops.shape(inv_hessian)[0])
        if activation_order:  # the order Keras's loop rounds in: by the Hessian's diagonal, largest first
            order = keras_gptq._stable_permutation(ops.cast(order_metric, "float32"))
        factor = ops.linalg.cholesky(_rows_and_columns(ops.cast(inv_hessian, "float64"), order))
        factor = ops.cast(ops.transpose(factor), weights_transpose.dtype)
        return original(weights_transpose, _rows_and_columns(factor, ops.argsort(order)),
                        activation_order=activation_order, order_metric=order_metric, **options)

    keras_gptq.gptq_quantize_matrix = quantize_matrix
    keras_gptq.linalg = _Float64Inverse(original_linalg)
    try:
        yield
    finally:
        keras_gptq.gptq_quantize_matrix, keras_gptq.linalg = original, original_linalg


class _Float64Inverse:
    """Keras's `linalg` as GPTQ's module sees it, but for `inv`, which inverts the Hessian in float64 (and gives
    the float64 inverse to `quantize_matrix`, its one reader)."""

    def __init__(self, linalg):
        self._linalg = linalg

    def __getattr__(self, name):
        return getattr(self._linalg, name)

    def inv(self, matrix):
        return self._linalg.inv(ops.cast(matrix, "float64"))


def _rows_and_columns(matrix, order):
    """`matrix` with its rows and its columns both taken in `order`."""
    return ops.take(ops.take(matrix, order, axis=0), order, axis=1)
