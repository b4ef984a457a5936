import keras
import numpy as np
import pytest

from keras_apps.models import parts
from keras_apps.models.convnet import build_convnet
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.models.lstm import build_lstm_classifier
from keras_apps.models.resnet import build_resnet
from keras_apps.models.transformer import build_transformer_classifier
from keras_apps.models.translator import TranslatorConfig, build_translator


def test_gpt_layers_are_found_in_order():
    model = build_gpt(GPTConfig(vocabulary_size=20, context_length=8, num_layers=3, num_heads=2, hidden_dim=16))
    layers = parts.GPTLayers.of(model)
    assert [block.name for block in layers.blocks] == ["decoder_0", "decoder_1", "decoder_2"]
    assert layers.token_embedding.input_dim == 20 and layers.position_embedding.sequence_length == 8
    assert isinstance(layers.final_norm, keras.layers.LayerNormalization)


def test_translator_layers_are_found_in_order():
    config = TranslatorConfig(source_vocabulary_size=30, target_vocabulary_size=40, max_length=8, num_layers=2,
                              num_heads=2, hidden_dim=16, intermediate_dim=32)
    layers = parts.TranslatorLayers.of(build_translator(config))
    assert [block.name for block in layers.encoders] == ["encoder_0", "encoder_1"]
    assert [block.name for block in layers.decoders] == ["decoder_0", "decoder_1"]
    assert layers.logits.units == 40 and layers.encoder_norm.name == "encoder_norm"


@pytest.mark.parametrize("build", [
    lambda: build_lstm_classifier(50, embedding_dim=8, units=4),
    lambda: build_transformer_classifier(50, 16, embedding_dim=8, num_heads=2, intermediate_dim=8),
])
def test_token_classifiers_expose_their_embedding(build):
    embedding = parts.token_embedding(build())
    assert embedding(keras.ops.convert_to_tensor([[1, 2, 3]])).shape[-1] == 8


@pytest.mark.parametrize("build", [build_convnet, build_resnet])
def test_image_models_expose_their_scaled_pixels(build):
    assert isinstance(parts.pixel_input(build()), keras.layers.Rescaling)


def test_an_accessor_given_another_model_says_so():
    with pytest.raises(ValueError, match="not a GPT model"):
        parts.GPTLayers.of(build_convnet())
    with pytest.raises(ValueError, match="not a translator"):
        parts.TranslatorLayers.of(build_lstm_classifier(50))
    with pytest.raises(ValueError, match="not a token classifier"):
        parts.token_embedding(build_convnet())


def test_quantization_calibrates_through_the_embeddings_the_model_adds():
    model = build_gpt(GPTConfig(vocabulary_size=20, context_length=8, num_layers=2, num_heads=2, hidden_dim=16))
    layers = parts.GPTLayers.of(model)
    structure = layers.quantization_structure()
    ids = np.random.default_rng(0).integers(0, 20, (2, 8)).astype("int32")
    (embed,) = structure["pre_block_layers"]
    embeddings = keras.Model(model.input, model.get_layer("embeddings_add").output)(ids)
    np.testing.assert_allclose(np.asarray(embed(ids)), np.asarray(embeddings), rtol=1e-6, atol=1e-6)
    assert structure["sequential_blocks"] == list(layers.blocks)
