import gc
import warnings

import keras
import pytest

from keras_apps.compress.keras_quantize import keras_quantize


def normalized_dense():
    inputs = keras.Input([8])
    outputs = keras.layers.Dense(3, name="dense")(keras.layers.LayerNormalization(name="normalization")(inputs))
    return keras.Model(inputs, outputs)


def test_the_kernels_are_quantized_quietly_and_the_collector_is_left_as_it_was():
    model = normalized_dense()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # Keras's for the normalization it leaves in float is dropped
        keras_quantize(model, "int8")
    assert model.get_layer("dense").quantization_mode == "int8"
    assert getattr(model.get_layer("normalization"), "quantization_mode", None) is None
    assert gc.get_freeze_count() == 0 and gc.isenabled()

    with pytest.raises(ValueError, match="int3"):  # Keras's refusal, and the collector still as it was
        keras_quantize(normalized_dense(), "int3")
    assert gc.get_freeze_count() == 0
