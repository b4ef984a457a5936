"""A binary text classifier as the IMDB task trains it: a recipe, a model with its text encoder, `fit`, scores.

Every family reads raw strings through a `TextEncoder` and ends in one logit (P(positive) through a sigmoid);
training targets may be 0/1 labels or a teacher's probabilities (`soft_targets`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import keras

from keras_apps import progress
from keras_apps.text_classification.encoders import TextEncoder


@dataclass
class Classifier:
    """A model builder, the encoder its inputs come from, and figures for `metrics.json`."""

    build: Callable[[], keras.Model]
    encoder: TextEncoder
    figures: dict = field(default_factory=dict)


def ngram_classifier(settings, train_split, directory):
    """Logistic regression on the n-grams learned from `train_split` (its labels weight them, naive Bayes), for
    a `TextClassifier` of the ngrams family."""
    from keras_apps.models.bow import build_bow_classifier
    from keras_apps.text.ngrams import NGramFeatures
    from keras_apps.text_classification.encoders import ngram_encoder

    print(f"Learning the {settings.ngrams.max_tokens:,} most frequent unigrams and bigrams "
          f"({settings.ngrams.weighting} weights)...")
    features = NGramFeatures.learn(train_split.texts, train_split.labels, max_tokens=settings.ngrams.max_tokens,
                                   weighting=settings.ngrams.weighting)
    return Classifier(
        lambda: build_bow_classifier(features.num_features, sparse=True, **settings.architecture),
        ngram_encoder(features, directory), {"features": features.num_features},
    )


def wordpiece_classifier(settings, vocabulary, vocabulary_path):
    """An LSTM or Transformer classifier (a `TextClassifier`) over WordPiece tokens of `vocabulary` (saved at
    `vocabulary_path`)."""
    from keras_apps.models.lstm import build_lstm_classifier
    from keras_apps.models.transformer import build_transformer_classifier
    from keras_apps.text.vocabulary import build_tokenizer
    from keras_apps.text_classification.encoders import wordpiece_encoder

    sequence_length = settings.sequence_length
    description = {"sequence_length": sequence_length, "vocabulary_size": len(vocabulary)}
    if settings.family == "lstm":
        def build():
            return build_lstm_classifier(len(vocabulary), **settings.architecture)
    else:
        description["blocks"] = settings.blocks

        def build():
            return build_transformer_classifier(len(vocabulary), sequence_length, blocks=settings.blocks,
                                                **settings.architecture)
    encoder = wordpiece_encoder(build_tokenizer(vocabulary), vocabulary_path, sequence_length)
    return Classifier(build, encoder, description)


def bert_classifier(start, dropout, pooling="mean-max"):
    """A classification head over the backbone a `BertStart` gives, reading its own sequence length; it reads a
    review from the mean and max of its tokens' output vectors, as the LSTM and Transformer do."""
    from keras_apps.models.bert import build_bert_classifier
    from keras_apps.text_classification.encoders import bert_encoder

    return Classifier(
        lambda: build_bert_classifier(start.build_backbone(), pooling=pooling, dropout=dropout),
        bert_encoder(start.tokenizer, start.sequence_length),
        {"sequence_length": start.sequence_length, "pretraining": start.pretraining},
    )


VOCABULARY = "vocabulary.txt"  # the run's WordPiece vocabulary, learned once


def learned_vocabulary(run, texts, size):
    """The WordPiece vocabulary of `size` tokens the run learns from `texts` once (and reads back on resume)."""
    from keras_apps.text.vocabulary import learn_vocabulary, load_vocabulary, save_vocabulary

    def learn():
        print(f"Learning a WordPiece vocabulary of {size:,} tokens from {len(texts):,} texts...")
        return learn_vocabulary(texts, size)

    return run.learned_once(VOCABULARY, learn, save_vocabulary, load_vocabulary)


def classifier_for(settings, run, train_split, *, vocabulary_size, bert_start=None):
    """The `Classifier` a `TextClassifier` describes, its vocabulary or n-grams learned in `run` from
    `train_split`; the bert family's backbone comes from `bert_start(vocabulary)`, a `BertStart`."""
    if settings.family == "ngrams":
        return ngram_classifier(settings, train_split, run.directory.path)

    def vocabulary():
        return learned_vocabulary(run, train_split.texts, vocabulary_size)

    if settings.family == "bert":
        return bert_classifier(bert_start(vocabulary), settings.architecture["dropout"])
    return wordpiece_classifier(settings, vocabulary(), run.directory.path / VOCABULARY)


def batches(split, encoder, batch_size, *, seed=None, shuffle=False):
    """Encoded, batched `(inputs, target)` pairs of a split of `LabeledTexts`; shuffled ones drop the remainder."""
    from keras_apps.data.text_pipeline import text_dataset

    return text_dataset(split.texts, split.labels, encoder.encode, batch_size, shuffle=shuffle, seed=seed,
                        drop_remainder=shuffle)


def fit_classifier(fit, classifier, train_split, validation_split, config):
    """`fit` (the runner's, or a `Run`'s with its folder bound) on encoded reviews: a sigmoid cross-entropy and
    the accuracy that also reads soft targets."""
    from keras_apps.text_classification.soft_targets import SoftTargetAccuracy

    return fit(
        classifier.build,
        batches(train_split, classifier.encoder, config.batch_size, seed=config.seed, shuffle=True),
        batches(validation_split, classifier.encoder, config.batch_size),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[SoftTargetAccuracy(threshold=0.0, name="accuracy")],
    )


def logits(model, split, encoder, batch_size):
    """The model's float32 logit for each text of `split`, in order."""
    predicted = model.predict(batches(split, encoder, batch_size), verbose=progress.verbosity())
    return keras.ops.cast(predicted[:, 0], "float32")
