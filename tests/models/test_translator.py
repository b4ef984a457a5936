"""The translator: shapes, padding that never changes an output, and causality on the target side."""

import keras
import numpy as np
import pytest

from keras_apps.models import parts
from keras_apps.models.translator import TranslatorConfig, build_translator
from keras_apps.recipes import TRANSFORMER_BLOCKS

CONFIG = TranslatorConfig(source_vocabulary_size=40, target_vocabulary_size=30, max_length=12, num_layers=2,
                          num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)


@pytest.fixture(scope="module")
def model():
    return build_translator(CONFIG)


def _logits(model, source, target):
    return model.predict({"source_ids": np.array(source, np.int32), "target_ids": np.array(target, np.int32)},
                         verbose=0)


def test_logits_cover_every_target_position_in_float32(model):
    logits = _logits(model, [[5, 6, 7, 0], [8, 9, 0, 0]], [[2, 4, 5], [2, 6, 0]])
    assert logits.shape == (2, 3, CONFIG.target_vocabulary_size) and logits.dtype == np.float32
    assert {layer.name for layer in model.layers} >= {"source_embedding", "encoder_0", "encoder_1", "encoder_norm",
                                                      "target_embedding", "decoder_0", "decoder_1", "decoder_norm",
                                                      "logits"}


def test_padding_never_changes_an_output(model):
    short = _logits(model, [[5, 6, 7]], [[2, 4, 5]])
    padded = _logits(model, [[5, 6, 7, 0, 0, 0, 0]], [[2, 4, 5, 0, 0]])
    np.testing.assert_allclose(padded[:, :3], short, rtol=1e-5, atol=1e-5)


def test_a_later_target_token_never_changes_an_earlier_position(model):
    first = _logits(model, [[5, 6, 7]], [[2, 4, 5, 6]])
    second = _logits(model, [[5, 6, 7]], [[2, 4, 9, 11]])
    np.testing.assert_allclose(first[:, :2], second[:, :2], rtol=1e-5, atol=1e-5)
    assert not np.allclose(first[:, 2:], second[:, 2:])


def test_the_source_reaches_every_target_position(model):
    first, second = _logits(model, [[5, 6, 7]], [[2, 4]]), _logits(model, [[5, 6, 8]], [[2, 4]])
    assert not np.allclose(first, second, atol=1e-6)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="multiple"):
        TranslatorConfig(10, 10, hidden_dim=30, num_heads=4)
    with pytest.raises(ValueError, match="--max-length must be at least 2"):
        TranslatorConfig(10, 10, max_length=1)


def test_every_source_token_reaches_every_source_position(model):
    """The encoder reads the whole source (only the decoder's self-attention is causal): a change to the last
    source token changes the first position's encoding."""
    encoder = keras.Model(model.input["source_ids"], model.get_layer("encoder_norm").output)
    first, second = encoder(np.array([[5, 6, 7]], np.int32)), encoder(np.array([[5, 6, 8]], np.int32))
    assert not np.allclose(np.asarray(first)[:, 0], np.asarray(second)[:, 0], atol=1e-6)


def test_each_side_has_its_own_vocabulary_and_positions(model):
    layers = parts.TranslatorLayers.of(model)
    assert layers.source_embedding.token_embedding.input_dim == CONFIG.source_vocabulary_size
    assert layers.target_embedding.token_embedding.input_dim == CONFIG.target_vocabulary_size
    for embedding in (layers.source_embedding, layers.target_embedding):
        assert embedding.position_embedding.sequence_length == CONFIG.max_length
    # The source's largest id is a word of the source language, whatever the target's vocabulary size.
    assert np.isfinite(_logits(model, [[CONFIG.source_vocabulary_size - 1, 6]], [[2, 4]])).all()


@pytest.mark.parametrize("blocks", TRANSFORMER_BLOCKS)
def test_every_setting_reaches_the_layers(blocks):
    config = TranslatorConfig(**{**CONFIG.to_dict(), "blocks": blocks, "dropout": 0.3})
    model = build_translator(config)
    assert model.get_layer("source_dropout").rate == model.get_layer("target_dropout").rate == config.dropout
    for index in range(config.num_layers):
        for name in (parts.encoder_block(index), parts.decoder_block(index)):
            block = model.get_layer(name)
            settings = block.get_config()
            assert (settings["num_heads"], settings["intermediate_dim"], settings["dropout"]) == (
                config.num_heads, config.intermediate_dim, config.dropout)
            assert block.normalize_first and block.activation is keras.activations.gelu


def test_dropout_acts_while_training_only():
    model = build_translator(TranslatorConfig(**{**CONFIG.to_dict(), "dropout": 0.5}))
    inputs = {"source_ids": np.array([[5, 6, 7]], np.int32), "target_ids": np.array([[2, 4, 5]], np.int32)}
    np.testing.assert_allclose(np.asarray(model(inputs)), np.asarray(model(inputs)))
    assert not np.allclose(np.asarray(model(inputs, training=True)), np.asarray(model(inputs)))


def test_the_outputs_are_logits_not_probabilities(model):
    """Losses and beam search take logits (`from_logits=True`): unnormalized scores, some of them negative."""
    logits = _logits(model, [[5, 6, 7]], [[2, 4, 5]])
    assert (logits < 0).any() and not np.allclose(logits.sum(axis=-1), 1.0)
