import numpy as np
import pytest
import tensorflow as tf

from keras_apps.text.ngrams import NGramFeatures
from tests.conftest import TINY_REVIEWS

TEXTS = [text for text, _ in TINY_REVIEWS]
LABELS = np.array([label for _, label in TINY_REVIEWS])


def _dense(features, texts):
    return tf.sparse.to_dense(features(tf.constant(texts))).numpy()


def test_tf_idf_features_are_sparse_with_unigrams_and_bigrams():
    features = NGramFeatures.learn(TEXTS, LABELS, max_tokens=500)
    vocabulary = features.vectorizer.get_vocabulary()
    assert "great" in vocabulary and "great cast" in vocabulary
    batch = features(tf.constant(["a great cast", ""]))
    assert isinstance(batch, tf.SparseTensor) and batch.dtype == tf.float32
    dense = _dense(features, ["a great cast", ""])
    assert dense.shape == (2, features.num_features) and (dense[1] == 0).all()
    assert dense[0, vocabulary.index("great cast")] > 0


def test_tf_idf_is_count_times_inverse_document_frequency():
    features = NGramFeatures.learn(TEXTS, LABELS, max_tokens=500)
    vocabulary = features.vectorizer.get_vocabulary()
    column = vocabulary.index("acting")  # in 2 of the 8 reviews
    once, twice = _dense(features, ["acting", "acting acting"])
    assert once[column] == pytest.approx(np.log(1 + 8 / (1 + 2)))
    assert twice[column] == pytest.approx(2 * once[column])


def test_max_tokens_caps_the_feature_count():
    assert NGramFeatures.learn(TEXTS, LABELS, max_tokens=20).num_features == 20


def test_naive_bayes_weights_point_each_ngram_towards_the_class_it_occurs_in():
    features = NGramFeatures.learn(TEXTS, LABELS, max_tokens=500, weighting="naive-bayes")
    vocabulary = features.vectorizer.get_vocabulary()
    weights = features.weights.numpy()
    assert weights[vocabulary.index("great")] > 0 and weights[vocabulary.index("awful")] < 0
    # Presence, not counts: a word said twice weighs what it weighs once.
    once, twice = _dense(features, ["great", "great great"])
    np.testing.assert_allclose(once, twice)
    assert once[vocabulary.index("great")] == pytest.approx(weights[vocabulary.index("great")])


def test_naive_bayes_weights_are_log_ratios_of_each_class_s_smoothed_share():
    features = NGramFeatures.learn(["bad", "good movie", "good fun"], [0, 1, 1], max_tokens=50,
                                   weighting="naive-bayes")
    vocabulary = features.vectorizer.get_vocabulary()
    assert sorted(vocabulary) == sorted(["[UNK]", "good", "bad", "movie", "fun", "good movie", "good fun"])
    # Texts holding each n-gram, plus 1: negative, 2 for "bad" and 1 for the 6 others (8 in all); positive, 3 for
    # "good", 2 for each of its 4 other n-grams and 1 for "bad" and "[UNK]" (13 in all).
    weight = features.weights.numpy()[vocabulary.index("good")]
    assert weight == pytest.approx(np.log(3 / 13) - np.log(1 / 8))


def test_unknown_weighting_is_refused():
    with pytest.raises(ValueError, match="weighting"):
        NGramFeatures.learn(TEXTS, LABELS, max_tokens=10, weighting="bm25")


def test_an_empty_batch_has_empty_features_in_a_graph_too():
    features = NGramFeatures.learn(TEXTS, LABELS, max_tokens=500)
    in_graph = tf.function(lambda texts: tf.sparse.to_dense(features(texts)),
                           input_signature=[tf.TensorSpec([None], tf.string)])
    assert in_graph(tf.constant([], tf.string)).shape == (0, features.num_features)
    assert tf.sparse.to_dense(features(tf.constant([], tf.string))).shape == (0, features.num_features)
