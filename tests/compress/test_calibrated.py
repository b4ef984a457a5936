import keras
import numpy as np
import pytest
from keras import ops

from keras_apps.compress import calibrated
from keras_apps.errors import UserError

INPUTS, OUTPUTS, ROWS = 256, 32, 512


def layer_and_inputs(seed=0):
    """One Dense layer whose inputs (a table of rows, looked up by token id) are correlated and of very
    uneven magnitudes, as a Transformer's are: what calibration exists for."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(INPUTS, INPUTS)) * rng.random(INPUTS)[None, :] ** 4
    table = (rng.normal(size=(ROWS, INPUTS)) @ mixing).astype("float32")
    inputs = keras.Input((None, INPUTS))
    dense = keras.layers.Dense(OUTPUTS, use_bias=False)
    model = keras.Model(inputs, dense(inputs))
    dense.kernel.assign(rng.normal(size=(INPUTS, OUTPUTS)).astype("float32") * 0.05)
    return model, dense, table


def output_error(model, table, reference):
    return float(np.mean((np.asarray(model(table[None]))[0] - reference) ** 2))


@pytest.mark.parametrize("mode", calibrated.MODES)
def test_calibration_makes_a_layer_s_outputs_closer_to_float_than_rounding_each_weight(mode):
    model, dense, table = layer_and_inputs()
    reference = np.asarray(model(table[None]))[0]
    rounded, _, _ = layer_and_inputs()
    rounded.quantize("int4")  # the same 4-bit groups of 128 inputs, each weight rounded alone
    calibrated.quantize(model, mode, dataset=[np.arange(ROWS)], tokenizer=object(),
                        structure={"pre_block_layers": [lambda ids: ops.take(table, ids, axis=0)],
                                   "sequential_blocks": [dense]},
                        sequence_length=32, windows=16)
    assert dense.quantization_mode == mode and getattr(dense, f"is_{mode}_calibrated")
    # Without calibration reaching the layer (Keras 3.15's bug) both fall back to plain rounding's error.
    assert output_error(model, table, reference) < 0.85 * output_error(rounded, table, reference)
    assert "quantized_call" not in vars(dense)  # the routing is undone


def test_an_unknown_mode_is_one_line():
    model, dense, table = layer_and_inputs()
    with pytest.raises(UserError, match="no 'int3' calibrated quantization; choose from gptq, awq"):
        calibrated.quantize(model, "int3", dataset=[np.arange(ROWS)], tokenizer=object(),
                            structure={"sequential_blocks": [dense]}, sequence_length=32)
