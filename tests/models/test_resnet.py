import keras
import numpy as np
import pytest

from keras_apps.models.resnet import build_resnet


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


def conv_bn(kernel, channels_in, channels_out):
    return kernel * kernel * channels_in * channels_out + 4 * channels_out  # BN keeps 4 values per channel


def block(channels_in, channels_out):
    projection = conv_bn(1, channels_in, channels_out) if channels_in != channels_out else 0
    return conv_bn(3, channels_in, channels_out) + conv_bn(3, channels_out, channels_out) + projection


@pytest.mark.parametrize("blocks_per_stage, expected", [(1, 78_426), (2, 176_090)])
def test_parameter_count_matches_a_count_by_hand(blocks_per_stage, expected):
    stem, head = conv_bn(3, 1, 16), 64 * 10 + 10
    stages = sum(block(channels_in, channels_out) + (blocks_per_stage - 1) * block(channels_out, channels_out)
                 for channels_in, channels_out in ((16, 16), (16, 32), (32, 64)))
    assert stem + stages + head == expected
    assert build_resnet(blocks_per_stage=blocks_per_stage).count_params() == expected


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
