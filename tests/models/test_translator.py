"""The translator: shapes, padding that never changes an output, and causality on the target side."""

import numpy as np
import pytest

from keras_apps.models.translator import TranslatorConfig, build_translator

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
