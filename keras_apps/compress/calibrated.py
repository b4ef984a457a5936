"""Calibrated 4-bit quantization: Keras's GPTQ and AWQ, which choose each layer's 4-bit weights by how its
inputs on real data use them, rather than rounding each weight alone as plain int4 does.

    gptq   rounds a layer's kernel one input row at a time, largest inputs first, and moves each row's rounding
           error onto the rows not yet rounded, weighted by the covariance of the layer's inputs (Frantar et
           al. 2022)
    awq    scales up the kernel rows of inputs with large magnitudes before rounding and divides the scale
           back out after, so those rows lose less (Lin et al. 2023)

Both calibrate block after block: the inputs of a block are the outputs of the quantized blocks before it.
Keras places the windows from an offset drawn from Python's string hash, which changes from one process to
the next unless `PYTHONHASHSEED` is set.
"""

import contextlib
import warnings

import keras

from keras_apps.errors import UserError

MODES = ("gptq", "awq")
GROUP_SIZE = 128  # inputs sharing a scale and zero point: as plain int4's default, so the two compare alike


def quantize(model, mode, *, dataset, tokenizer, structure, sequence_length, windows=128):
    """Quantizes `model`'s Dense and EinsumDense kernels in place by `mode` to 4 bits in groups of
    `GROUP_SIZE` inputs, calibrated on `windows` windows of `sequence_length` tokens spread over `dataset`.

    Args:
        dataset: a list of texts (which `tokenizer.tokenize` reads) or of token-id arrays.
        structure: `{"pre_block_layers": [...], "sequential_blocks": [...]}`: what turns token ids into the
            first block's input, and the blocks in order (Keras's `quantization_layer_structure`).
    """
    if mode not in MODES:
        raise UserError(f"no {mode!r} calibrated quantization; choose from {', '.join(MODES)}")
    settings = {"gptq": (keras.quantizers.GPTQConfig, {"activation_order": True}),
                "awq": (keras.quantizers.AWQConfig, {})}
    config_class, options = settings[mode]
    config = config_class(dataset=dataset, tokenizer=tokenizer, num_samples=windows, sequence_length=sequence_length,
                          group_size=GROUP_SIZE, quantization_layer_structure=structure, **options)
    with _calibration_sees_float_calls(model, mode), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        model.quantize(mode, config=config)


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
