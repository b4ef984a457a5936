import keras
import numpy as np
import pytest
from keras import ops

from keras_apps.compress import calibrated
from keras_apps.compress.weight_formats import CALIBRATED
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


@pytest.mark.parametrize("mode", CALIBRATED)
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
    if mode == "gptq":
        assert dense.quantization_config.activation_order  # the columns of the largest inputs rounded first
    # Without calibration reaching the layer (Keras 3.15's bug) both fall back to plain rounding's error.
    assert output_error(model, table, reference) < 0.85 * output_error(rounded, table, reference)
    assert "quantized_call" not in vars(dense)  # the routing is undone


def test_an_unknown_mode_is_one_line():
    model, dense, table = layer_and_inputs()
    with pytest.raises(UserError, match="no 'int3' calibrated quantization; choose from gptq, awq"):
        calibrated.quantize(model, "int3", dataset=[np.arange(ROWS)], tokenizer=object(),
                            structure={"sequential_blocks": [dense]}, sequence_length=32)


def published_gptq(weights, hessian, order, quantize):
    """GPTQ's rounding by its definition (Frantar et al. 2022, after Optimal Brain Quantization): the columns
    rounded one at a time in `order`, each error moved onto the columns left through the inverse of the
    Hessian restricted to them, re-inverted at every step (what the Cholesky factor computes in one pass)."""
    weights, rounded, left = weights.astype("float64").copy(), np.zeros(weights.shape), list(order)
    while left:
        column, inverse = left[0], np.linalg.inv(hessian[np.ix_(left, left)])
        rounded[:, column] = quantize(weights[:, column])
        error = (weights[:, column] - rounded[:, column]) / inverse[0, 0]
        weights[:, left] -= np.outer(error, inverse[0])
        left.pop(0)
    return rounded


@pytest.mark.parametrize("activation_order", [False, True])
def test_gptq_rounds_as_published(activation_order):
    """Keras 3.15 spreads the errors through the inverse Hessian's rows, right only for a block's first column;
    under `quantize` its loop gets the Cholesky factor and rounds as the definition does, across blocks."""
    from keras.src.quantizers import gptq as keras_gptq

    rng = np.random.default_rng(0)
    outputs, inputs, step = 3, 10, 0.1
    weights = rng.normal(size=(outputs, inputs)) * 0.3
    features = rng.normal(size=(64, inputs)) @ rng.normal(size=(inputs, inputs))
    hessian = features.T @ features + np.eye(inputs)

    def scale_zero(group):  # one 4-bit grid for every group: step 0.1, zero point 8
        return ops.full((outputs, 1), step), ops.full((outputs, 1), 8.0), 15.0

    def quantize(column):  # the same grid, by hand
        return (np.clip(np.round(column / step) + 8, 0, 15) - 8) * step

    order = np.argsort(-np.diag(hessian), kind="stable") if activation_order else np.arange(inputs)
    expected = published_gptq(weights, hessian, order, quantize)

    def keras_rounding():
        codes, *_ = keras_gptq.gptq_quantize_matrix(
            ops.convert_to_tensor(weights, "float32"), ops.convert_to_tensor(np.linalg.inv(hessian), "float32"),
            blocksize=4, activation_order=activation_order, order_metric=ops.convert_to_tensor(np.diag(hessian)),
            compute_scale_zero=scale_zero)
        return (np.asarray(codes) - 8) * step

    with calibrated._gptq_corrects_as_published():
        np.testing.assert_allclose(keras_rounding(), expected, atol=1e-6)
    assert not np.allclose(keras_rounding(), expected, atol=1e-6)  # what Keras 3.15 does alone


@pytest.mark.parametrize("seed", [6, 7])
def test_gptq_quantizes_a_layer_whose_inputs_share_one_large_component(seed):
    """Inputs sharing one large component (post-activation features have a mean) over few calibration tokens
    give a Hessian whose condition number is about 100 x its width even damped: Keras's float32 inverse of it was
    no longer positive definite and GPTQ stopped on "Cholesky decomposition failed: ... NaN values", or not,
    by where the windows fell (a 20-step GPT's feed-forward output). These two tables failed so."""
    inputs = 512
    rng = np.random.default_rng(seed)
    table = (rng.random(inputs) + 0.03 * rng.normal(size=(ROWS, 16)) @ rng.normal(size=(16, inputs)) / 4)
    table = table.astype("float32")
    layer_inputs = keras.Input((None, inputs))
    dense = keras.layers.Dense(8, use_bias=False)
    model = keras.Model(layer_inputs, dense(layer_inputs))
    reference = np.asarray(model(table[None]))[0]
    calibrated.quantize(model, "gptq", dataset=[np.arange(ROWS)], tokenizer=object(),
                        structure={"pre_block_layers": [lambda ids: ops.take(table, ids, axis=0)],
                                   "sequential_blocks": [dense]},
                        sequence_length=ROWS, windows=1)  # one window of every row: no offset drawn from a hash
    assert dense.is_gptq_calibrated
    assert output_error(model, table, reference) < 0.01 * float(np.mean(reference ** 2))
