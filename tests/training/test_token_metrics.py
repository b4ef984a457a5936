"""`TokenMean`: figures over the real tokens of batches of different lengths, as a translator's are."""

import keras
import numpy as np
import pytest

from keras_apps.training.token_metrics import TokenMean


def batches():
    """Two batches padded to 2 and to 6 tokens: one short sentence right, one long sentence mostly wrong."""
    rng = np.random.default_rng(0)
    short = (np.array([[1, 2]]), keras.ops.one_hot(np.array([[1, 2]]), 4) * 5.0, np.array([[1.0, 1.0]]))
    long_labels = np.array([[1, 2, 3, 1, 2, 0]])
    guesses = np.array([[1, 3, 0, 0, 0, 0]])  # the first right, four real tokens wrong, the padding ignored
    long = (long_labels, keras.ops.one_hot(guesses, 4) * 5.0 + rng.normal(0, 0.1, (1, 6, 4)),
            np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 0.0]]))
    return short, long


def test_the_accuracy_counts_every_real_token_once_whatever_its_batchs_length():
    metric, keras_own = TokenMean("accuracy"), keras.metrics.SparseCategoricalAccuracy()
    for labels, logits, weights in batches():
        metric.update_state(labels, logits, sample_weight=weights)
        keras_own.update_state(labels, logits, sample_weight=weights)
    assert float(metric.result()) == pytest.approx(3 / 7)  # 2 short + 1 long right, of 7 real tokens
    assert float(keras_own.result()) != pytest.approx(3 / 7)  # the long batch's tokens counted a third as much


def test_the_cross_entropy_is_the_mean_over_the_real_tokens():
    metric = TokenMean("cross_entropy", name="token_loss")
    losses, weights_seen = [], []
    for labels, logits, weights in batches():
        metric.update_state(labels, logits, sample_weight=weights)
        per_token = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        losses.append(np.asarray(per_token) * weights)
        weights_seen.append(weights)
    expected = sum(loss.sum() for loss in losses) / sum(weight.sum() for weight in weights_seen)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    assert metric.name == "token_loss"


def test_it_survives_a_saved_models_round_trip_and_refuses_an_unknown_figure(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    model.compile(loss="sparse_categorical_crossentropy", weighted_metrics=[TokenMean("accuracy", name="masked")])
    model.evaluate(np.zeros((2, 3)), np.zeros((2,)), verbose=0)
    model.save(tmp_path / "model.keras")
    keras.saving.load_model(tmp_path / "model.keras")
    with pytest.raises(ValueError, match="per_token must be one of"):
        TokenMean("perplexity")


def test_a_cross_entropy_keeps_its_figure_through_its_config():
    """A metric rebuilt from its config (as a saved model's is) must measure the same figure, not the default."""
    metric = TokenMean("cross_entropy", name="token_loss")
    rebuilt = TokenMean.from_config(metric.get_config())
    assert rebuilt.per_token == "cross_entropy" and rebuilt.name == "token_loss"
    for labels, logits, weights in batches():
        metric.update_state(labels, logits, sample_weight=weights)
        rebuilt.update_state(labels, logits, sample_weight=weights)
    assert float(rebuilt.result()) == pytest.approx(float(metric.result()))
