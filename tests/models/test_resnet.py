import keras
import numpy as np
import pytest

from keras_apps.models import build_resnet


@pytest.mark.parametrize("input_shape", [(28, 28), (32, 32, 3)])
def test_output_shape_for_mnist_and_cifar_sized_inputs(input_shape):
    model = build_resnet(input_shape=input_shape, width=4)
    images = np.zeros((2, *input_shape), np.uint8)
    assert model.predict(images, verbose=0).shape == (2, 10)


def test_stages_halve_resolution_and_double_width():
    model = build_resnet(width=8, blocks_per_stage=1, stages=3)
    assert model.get_layer("stage1_block1_out").output.shape == (None, 28, 28, 8)
    assert model.get_layer("stage2_block1_out").output.shape == (None, 14, 14, 16)
    assert model.get_layer("stage3_block1_out").output.shape == (None, 7, 7, 32)


def test_depth_adds_blocks_and_parameters():
    shallow, deep = build_resnet(width=4, blocks_per_stage=1), build_resnet(width=4, blocks_per_stage=2)
    assert deep.count_params() > shallow.count_params()
    assert "stage3_block2_add" in [layer.name for layer in deep.layers]


def test_parameter_count_of_the_default_network():
    # Counted by hand (BN has 4 values per channel):
    stem = 9 * 1 * 16 + 4 * 16
    stage1 = 2 * (9 * 16 * 16 + 4 * 16)
    stage2 = 9 * 16 * 32 + 9 * 32 * 32 + 16 * 32 + 3 * 4 * 32  # two 3x3 convs, a 1x1 projection, three BNs
    stage3 = 9 * 32 * 64 + 9 * 64 * 64 + 32 * 64 + 3 * 4 * 64
    head = 64 * 10 + 10
    assert build_resnet().count_params() == stem + stage1 + stage2 + stage3 + head == 78_426


def test_config_round_trip():
    model = build_resnet(width=4)
    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]


def test_batch_norm_is_used():
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in build_resnet(width=4).layers)


def test_invalid_sizes_are_refused():
    with pytest.raises(ValueError):
        build_resnet(width=0)
