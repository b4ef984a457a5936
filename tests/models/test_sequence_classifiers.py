"""The token-id classifiers (LSTM, Transformer): shapes, sizes, and that padding never changes a prediction."""

import keras
import keras_hub
import numpy as np
import pytest

from keras_apps.models import attention_explained, parts
from keras_apps.models.lstm import build_lstm_classifier
from keras_apps.models.pooling import POOLINGS, pool_tokens
from keras_apps.models.transformer import build_transformer_classifier
from keras_apps.recipes import TRANSFORMER_BLOCKS

VOCABULARY = 50
BUILDERS = {
    "lstm": lambda: build_lstm_classifier(VOCABULARY, embedding_dim=8, units=6),
    "transformer": lambda: build_transformer_classifier(
        VOCABULARY, 32, embedding_dim=8, num_heads=2, intermediate_dim=16, num_layers=2
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_padding_never_changes_a_prediction(name):
    model = BUILDERS[name]()
    ids = np.random.default_rng(0).integers(5, VOCABULARY, (3, 10)).astype("int32")
    padded = np.concatenate([ids, np.zeros((3, 22), "int32")], axis=1)
    shorter = ids.copy()
    shorter[1, 6:] = 0  # one review shorter than the others: its padding must not matter either
    np.testing.assert_allclose(model(padded).numpy(), model(ids).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model(shorter).numpy()[1], model(ids[1:2, :6]).numpy()[0], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_one_logit_per_review_and_config_round_trip(name):
    model = BUILDERS[name]()
    assert model.input.dtype == "int32" and model.output.shape == (None, 1)
    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]


def test_lstm_parameter_count_matches_a_count_by_hand():
    model = build_lstm_classifier(VOCABULARY, embedding_dim=8, units=6)
    lstm = 4 * (6 * (8 + 6) + 6)  # four gates, each with input and recurrent kernels and a bias
    pooled = 2 * (2 * 6)  # the mean and the max of each token's two concatenated states
    assert model.count_params() == VOCABULARY * 8 + 2 * lstm + (pooled + 1)


def test_transformer_learns_a_keyword_rule():
    """A smoke test that gradients flow: the label is whether token 7 appears."""
    generator = np.random.default_rng(0)
    ids = generator.integers(8, VOCABULARY, (256, 12)).astype("int32")
    labels = generator.integers(0, 2, 256).astype("float32")
    ids[labels == 1, generator.integers(0, 12, int(labels.sum()))] = 7
    model = BUILDERS["transformer"]()
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    model.fit(ids, labels, epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(ids, labels, verbose=0)[1] > 0.95


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_an_all_padding_review_gets_a_finite_logit(name):
    """An empty review tokenizes to nothing but padding; the model must still answer (no 0 / 0)."""
    logits = BUILDERS[name]()(np.zeros((2, 32), "int32")).numpy()
    assert np.isfinite(logits).all()


def _linear(dense, x):
    return np.asarray(x) @ dense.kernel.numpy() + dense.bias.numpy()


def _build(name, **settings):
    if name == "lstm":
        return build_lstm_classifier(VOCABULARY, embedding_dim=8, units=6, **settings)
    return build_transformer_classifier(VOCABULARY, 32, embedding_dim=8, num_heads=2, intermediate_dim=16,
                                        num_layers=2, **settings)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("name, token_vectors", [("lstm", "bilstm"), ("transformer", "encoder2")])
def test_the_logit_reads_the_pooling_asked_for(name, token_vectors, pooling):
    model = _build(name, pooling=pooling, dropout=0.5)
    ids = np.random.default_rng(4).integers(5, VOCABULARY, (2, 10)).astype("int32")
    ids[0, 6:] = 0
    vectors = keras.Model(model.input, model.get_layer(token_vectors).output)(ids)
    pooled = pool_tokens(vectors, ids != 0, pooling)
    # Dropout is off outside training, and the output is a logit: the pooled vector times the kernel, plus the bias.
    np.testing.assert_allclose(model(ids).numpy(), _linear(model.get_layer("logit"), pooled), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_dropout_is_the_rate_asked_for(name):
    model = _build(name, dropout=0.4)
    assert model.get_layer("embedding_dropout").rate == model.get_layer("dropout").rate == 0.4


@pytest.mark.parametrize("blocks", TRANSFORMER_BLOCKS)
def test_transformer_settings_reach_every_encoder(blocks):
    model = build_transformer_classifier(VOCABULARY, 24, embedding_dim=8, num_heads=4, intermediate_dim=12,
                                         num_layers=3, dropout=0.3, blocks=blocks)
    encoders = [layer for layer in model.layers if layer.name.startswith("encoder")]
    assert len(encoders) == 3
    expected = keras_hub.layers.TransformerEncoder if blocks == "keras-hub" else attention_explained.TransformerEncoder
    for encoder in encoders:
        settings = encoder.get_config()
        assert type(encoder) is expected
        assert (settings["num_heads"], settings["intermediate_dim"], settings["dropout"]) == (4, 12, 0.3)
    assert parts.token_embedding(model).position_embedding.sequence_length == 24
