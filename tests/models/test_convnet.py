import keras
import numpy as np
import pytest

from keras_apps.models.convnet import build_convnet


def test_classic_mnist_convnet_has_the_keras_io_parameter_count():
    model = build_convnet()
    assert model.count_params() == 34_826
    assert model.input.dtype == "uint8" and model.output.shape == (None, 10)


def test_takes_raw_uint8_images_and_rescales_inside():
    model = build_convnet(filters=(4,), dropout=0.0)
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    logits = model.predict(images, verbose=0)
    assert logits.shape == (3, 10) and np.isfinite(logits).all()
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)


def test_colour_inputs_and_other_class_counts():
    model = build_convnet(input_shape=(32, 32, 3), num_classes=5, filters=(4, 8))
    assert model.output.shape == (None, 5)


def test_config_round_trip_rebuilds_the_same_architecture():
    model = build_convnet(filters=(4, 8))
    clone = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.count_params() == model.count_params()


def test_every_layer_is_named_by_the_builder():
    names = [layer.name for layer in build_convnet().layers]
    assert names == ["images", "add_channel_axis", "rescale", "conv1", "pool1", "conv2", "pool2",
                     "flatten", "dropout", "logits"]


def test_empty_filters_are_refused():
    with pytest.raises(ValueError):
        build_convnet(filters=())
