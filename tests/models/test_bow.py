import keras
import numpy as np
import tensorflow as tf

from keras_apps.models.bow import build_bow_classifier


def test_logistic_regression_by_default_is_one_dense_layer():
    model = build_bow_classifier(1000, hidden_units=0)
    assert model.count_params() == 1000 + 1
    assert model.output.shape == (None, 1)


def test_hidden_layer_adds_a_relu_layer_and_dropout():
    model = build_bow_classifier(1000, hidden_units=16)
    assert model.count_params() == 1000 * 16 + 16 + 16 + 1
    assert [layer.name for layer in model.layers] == ["features", "hidden", "dropout", "logit"]


def test_sparse_and_dense_features_give_the_same_logits():
    dense = build_bow_classifier(50, hidden_units=4, sparse=False)
    sparse = build_bow_classifier(50, hidden_units=4, sparse=True)
    sparse.set_weights(dense.get_weights())
    features = np.zeros((3, 50), np.float32)
    features[0, [1, 7]] = [0.5, 2.0]
    features[2, 49] = 1.0
    np.testing.assert_allclose(
        sparse(tf.sparse.from_dense(features)).numpy(), dense(features).numpy(), rtol=1e-6
    )


def test_config_round_trip():
    model = build_bow_classifier(100, hidden_units=8)
    assert keras.Model.from_config(model.get_config()).count_params() == model.count_params()
