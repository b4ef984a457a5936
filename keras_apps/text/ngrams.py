"""Bag-of-n-grams features: what the `bow` models read instead of token sequences.

Two weightings of the same unigrams and bigrams (Keras's `TextVectorization`, adapted on the training text):

- `tf-idf`: counts times inverse document frequency, log(1 + documents / (1 + documents with the n-gram)),
  the textbook baseline (Chollet, DLwP 2nd ed., ch. 11; the formula is Keras's).
- `naive-bayes`: presence (0/1) times the n-gram's naive-Bayes log-count ratio, log(P(n-gram | positive) /
  P(n-gram | negative)), learned from the training labels. A linear model on these is Wang & Manning's NBSVM
  (2012) with a logistic loss; it is the stronger baseline for sentiment.

Features stay sparse (`tf.SparseTensor`) from the vectorizer to the model: a review holds a few hundred of
the 200,000 n-grams, so a batch of a thousand reviews costs kilobytes, not the gigabyte a dense batch would.
"""

import keras
import numpy as np
import tensorflow as tf

WEIGHTINGS = ("tf-idf", "naive-bayes")
_BATCH = 512


class NGramFeatures:
    """A callable mapping a batch of strings to sparse float32 features `[batch, num_features]`."""

    def __init__(self, vectorizer, weights):
        self.vectorizer = vectorizer
        self.weights = tf.constant(weights, tf.float32)

    @classmethod
    def learn(cls, texts, labels, *, max_tokens, weighting="tf-idf", smoothing=1.0):
        """The `max_tokens` most frequent n-grams of `texts` and their weights (`labels` for `naive-bayes`)."""
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        vectorizer = keras.layers.TextVectorization(
            max_tokens=max_tokens, ngrams=2, output_mode="count" if weighting == "tf-idf" else "multi_hot",
            sparse=True,
        )
        vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(_BATCH))
        counts = document_counts(vectorizer, texts, labels)
        if weighting == "tf-idf":
            weights = np.log(1 + len(texts) / (1 + counts.sum(axis=0)))
        else:
            smoothed = counts + smoothing
            weights = np.log(smoothed[1] / smoothed[1].sum()) - np.log(smoothed[0] / smoothed[0].sum())
        return cls(vectorizer, weights)

    @property
    def num_features(self):
        return self.vectorizer.vocabulary_size()

    def __call__(self, strings):
        """The features of `strings`; an empty batch gets empty `[0, num_features]` features, as the
        vectorizer's sparse counting op refuses a batch of none (a served model must still answer it)."""
        return tf.cond(tf.size(strings) > 0, lambda: self._weighted(strings), self._no_features)

    def _weighted(self, strings):
        features = self.vectorizer(strings)
        values = tf.cast(features.values, tf.float32) * tf.gather(self.weights, features.indices[:, 1])
        return features.with_values(values)

    def _no_features(self):
        shape = tf.constant([0, self.weights.shape[0]], tf.int64)
        return tf.SparseTensor(tf.zeros([0, 2], tf.int64), tf.zeros([0], tf.float32), shape)


def document_counts(vectorizer, texts, labels):
    """`[2, features]`: how many negative (row 0) and positive (row 1) texts hold each feature."""
    labels = np.asarray(labels)
    counts = np.zeros((2, vectorizer.vocabulary_size()), np.int64)
    for start in range(0, len(texts), _BATCH):
        rows, columns = vectorizer(tf.constant(list(texts[start:start + _BATCH]), tf.string)).indices.numpy().T
        for label in (0, 1):
            counts[label] += np.bincount(
                columns[labels[start + rows] == label], minlength=vectorizer.vocabulary_size()
            )
    return counts
