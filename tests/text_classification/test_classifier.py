"""How `classifier` trains: the n-gram weighting it is given, the batches `fit` reads, and the accuracy it reports."""

import keras
import numpy as np
import tensorflow as tf

from keras_apps.data.imdb import LabeledTexts
from keras_apps.text.ngrams import NGramFeatures
from keras_apps.text_classification import classifier
from keras_apps.text_classification.encoders import TextEncoder
from keras_apps.text_classification.recipes import NGramSettings, TextClassifier
from keras_apps.training.config import TrainingConfig
from tests.conftest import TINY_REVIEWS

TEXTS = [text for text, _ in TINY_REVIEWS]
LABELS = np.array([label for _, label in TINY_REVIEWS])
# Each text's length in characters: an encoder with nothing to learn, for tests of the batches alone.
LENGTH = TextEncoder(lambda strings: tf.cast(tf.strings.length(strings)[:, None], tf.float32))


def fit_arguments(train_split, validation_split, batch_size):
    """What `fit_classifier` hands the runner's `fit`: `(build, train, validation, keyword arguments)`."""
    handed = []
    classifier.fit_classifier(lambda *args, **kwargs: handed.append((*args, kwargs)),
                              classifier.Classifier(lambda: None, LENGTH), train_split, validation_split,
                              TrainingConfig(batch_size=batch_size, seed=0))
    return handed[0]


def targets(dataset):
    return np.concatenate([target.numpy() for _, target in dataset])


def test_the_ngram_classifier_weighs_its_features_as_its_settings_say(tmp_path):
    settings = TextClassifier("ngrams", dict(hidden_units=0), ngrams=NGramSettings(50, "naive-bayes"))
    model = classifier.ngram_classifier(settings, LabeledTexts(TEXTS, LABELS), tmp_path)
    expected = NGramFeatures.learn(TEXTS, LABELS, max_tokens=50, weighting="naive-bayes")
    np.testing.assert_allclose(tf.sparse.to_dense(model.encoder.encode(tf.constant(TEXTS))).numpy(),
                               tf.sparse.to_dense(expected(tf.constant(TEXTS))).numpy(), rtol=1e-6)


def test_training_batches_are_shuffled_and_hold_every_review_once():
    split = LabeledTexts(TEXTS * 2, np.arange(16))  # each review told apart by its target
    _, train, _, _ = fit_arguments(split, split, batch_size=4)
    shuffled = targets(train)
    assert sorted(shuffled) == list(range(16)) and not np.array_equal(shuffled, split.labels)


def test_validation_and_prediction_keep_the_last_partial_batch():
    split = LabeledTexts(TEXTS + TEXTS[:2], np.arange(10))
    _, _, validation, _ = fit_arguments(split, split, batch_size=8)
    np.testing.assert_array_equal(targets(validation), split.labels)
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert classifier.logits(model, split, LENGTH, 8).shape == (10,)


def test_accuracy_reads_logits_positive_above_zero():
    """The model ends in a logit, not a probability: a logit of 0.2 is P(positive) 0.55, a positive verdict."""
    _, _, _, kwargs = fit_arguments(LabeledTexts(TEXTS, LABELS), LabeledTexts(TEXTS, LABELS), batch_size=8)
    accuracy = kwargs["metrics"][0]
    accuracy.update_state(np.array([[1.0], [0.0]]), np.array([[0.2], [-0.2]]))
    assert float(accuracy.result()) == 1.0


def test_the_bert_head_drops_out_at_its_settings_rate():
    from keras_apps.text.vocabulary import RESERVED_TOKENS
    from keras_apps.text_classification import bert_start

    vocabulary = [*RESERVED_TOKENS, "a", "great", "film"]
    architecture = dict(num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16, dropout=0.3)
    settings = TextClassifier("bert", architecture, sequence_length=16)
    chosen = classifier.classifier_for(settings, None, LabeledTexts(TEXTS, LABELS), vocabulary_size=len(vocabulary),
                                       bert_start=lambda _: bert_start.from_scratch(vocabulary, 16, architecture))
    assert chosen.build().get_layer("dropout").rate == 0.3
