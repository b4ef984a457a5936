"""Bag-of-n-grams features: what the `bow` models read instead of token sequences.

Two weightings of the same unigrams and bigrams (Keras's `TextVectorization`, adapted on the training text):

- `tf-idf`: counts times inverse document frequency, the textbook baseline (Chollet, DLwP 2nd ed., ch. 11).
- `naive-bayes`: presence (0/1) times the n-gram's naive-Bayes log-count ratio, log(P(n-gram | positive) /
  P(n-gram | negative)), learned from the training labels. A linear model on these is Wang & Manning's NBSVM
  (2012) with a logistic loss; it is the stronger baseline for sentiment.

Features are sparse `tf.SparseTensor`s: a review holds a few hundred of the hundreds of thousands of n-grams.
"""

import keras
import numpy as np
import tensorflow as tf

WEIGHTINGS = ("tf-idf", "naive-bayes")
_BATCH = 512


class NGramFeatures:
    """A callable mapping a batch of strings to sparse float32 features `[batch, num_features]`."""

    def __init__(self, vectorizer, weights=None):
        self.vectorizer = vectorizer
        self.weights = None if weights is None else tf.constant(weights, tf.float32)

    @classmethod
    def learn(cls, texts, labels, *, max_tokens, weighting="tf-idf", smoothing=1.0):
        """The `max_tokens` most frequent n-grams of `texts` and their weights (`labels` for `naive-bayes`)."""
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        vectorizer = keras.layers.TextVectorization(
            max_tokens=max_tokens, ngrams=2, output_mode="tf_idf" if weighting == "tf-idf" else "multi_hot"
        )
        vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(_BATCH))
        features = cls(vectorizer)
        if weighting == "naive-bayes":
            features.weights = tf.constant(log_count_ratios(features, texts, labels, smoothing), tf.float32)
        return features

    @property
    def num_features(self):
        return self.vectorizer.vocabulary_size()

    def __call__(self, strings):
        features = tf.sparse.from_dense(tf.cast(self.vectorizer(strings), tf.float32))
        if self.weights is None:
            return features
        return features.with_values(features.values * tf.gather(self.weights, features.indices[:, 1]))


def log_count_ratios(features, texts, labels, smoothing=1.0):
    """log(p / |p|) - log(q / |q|), where p and q count, with `smoothing` added, the positive and the negative
    texts each feature occurs in."""
    labels = np.asarray(labels)
    counts = np.full((2, features.num_features), smoothing, np.float64)
    for start in range(0, len(texts), _BATCH):
        batch = features(tf.constant(list(texts[start:start + _BATCH]), tf.string))
        rows, columns = batch.indices.numpy().T
        for label in (0, 1):
            counts[label] += np.bincount(columns[labels[start + rows] == label], minlength=features.num_features)
    return np.log(counts[1] / counts[1].sum()) - np.log(counts[0] / counts[0].sum())
