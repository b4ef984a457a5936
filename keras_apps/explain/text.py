"""Integrated gradients for text classifiers, and a page with the words shaded by their attribution.

Token models (LSTM, Transformer) are explained on their embeddings: the path runs from all-zero embedding
vectors to the review's, through the rest of the network, and a token's attribution is the sum over its
embedding dimensions. Bag-of-n-gram models are explained on their features from a zero vector; since their
network is linear in the features, each present n-gram's attribution is its weighted feature times its
weight, and a word's share is its unigram's plus half of each bigram it is part of; the n-grams the vocabulary
lacks share their one feature's.
"""

import html
import itertools
import re

import keras
import numpy as np
import tensorflow as tf

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.explain.integrated_gradients import Attribution, integrated_gradients
from keras_apps.models import parts

# `keras.layers.TextVectorization`'s default standardization: lower case, then these characters removed.
PUNCTUATION = re.compile(r"[!\"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']")
OUT_OF_VOCABULARY = "[UNK]"  # `TextVectorization`'s feature 0 (count, multi-hot): the n-grams not in its vocabulary


def explain_tokens(model, token_ids, steps=64, padding_id=0):
    """`(attribution, kept token ids)`: integrated gradients of the logit on the embeddings of the real
    (non-padding) tokens; `attribution.values` has one value per kept token."""
    try:
        embedding = parts.token_embedding(model)
    except ValueError as exc:
        raise UserError(f"{exc}; nothing to explain on") from None
    token_ids = np.asarray(token_ids)
    token_ids = token_ids[token_ids != padding_id][None].astype("int32")
    if token_ids.size == 0:
        raise UserError("the review has no tokens the model knows; nothing to explain")
    # The rest of the network reads the token ids too (its padding masks): they ride along unchanged.
    network = keras.Model([model.input, embedding.output], model.output)
    embedded = tf.identity(embedding(token_ids))[0]

    def logit(path):
        ids = tf.repeat(token_ids, tf.shape(path)[0], axis=0)
        return network([ids, path], training=False)[:, 0]

    attribution = integrated_gradients(logit, embedded, steps=steps)
    per_token = attribution.values.sum(axis=-1)
    return Attribution(per_token, attribution.output, attribution.baseline_output), token_ids[0]


def explain_features(model, features, steps=16):
    """Integrated gradients of the logit on a (dense) feature vector, from zeros: one value per feature."""
    features = np.asarray(features, "float32")
    return integrated_gradients(lambda path: model(path, training=False)[:, 0], features, steps=steps)


def words(text):
    """The words `TextVectorization` sees in `text`: lower case, punctuation removed, split on whitespace."""
    return PUNCTUATION.sub("", text.lower()).split()


def word_attributions(review_words, ngram_values):
    """Each word's share of the n-gram attributions `{ngram: value}` (unigrams and space-joined bigrams, and
    `OUT_OF_VOCABULARY`: the one feature of every n-gram the vocabulary lacks).

    An n-gram present several times has one feature: its value is shared equally among its occurrences; so is
    the out-of-vocabulary feature's among the occurrences of the n-grams it stands for.
    """
    unigrams = [(word,) for word in review_words]
    bigrams = list(itertools.pairwise(review_words))
    counts = {}
    for gram in unigrams + bigrams:
        counts[gram] = counts.get(gram, 0) + 1
    unknown = [gram for gram in counts if " ".join(gram) not in ngram_values]
    unknown_share = ngram_values.get(OUT_OF_VOCABULARY, 0.0) / max(sum(counts[gram] for gram in unknown), 1)
    shares = np.zeros(len(review_words))
    for index, gram in enumerate(unigrams):
        shares[index] += ngram_values.get(gram[0], unknown_share * counts[gram]) / counts[gram]
    for index, gram in enumerate(bigrams):
        value = ngram_values.get(" ".join(gram), unknown_share * counts[gram]) / counts[gram]
        shares[index] += value / 2
        shares[index + 1] += value / 2
    return shares


def shaded_words(tokens, values):
    """HTML of `tokens`, each on a background from red (toward negative) to green (toward positive) by its value."""
    limit = float(np.max(np.abs(values))) if len(values) else 1.0
    limit = limit or 1.0
    spans = []
    for token, value in zip(tokens, values):
        strength = min(abs(value) / limit, 1.0)
        colour = "0, 160, 60" if value >= 0 else "220, 40, 40"
        spans.append(f'<span title="{value:+.4f}" style="background: rgba({colour}, {strength:.3f}); '
                     f'padding: .1rem .15rem; border-radius: .2rem">{html.escape(token)}</span>')
    return " ".join(spans)


SHADING_KEY = ('<span style="background: rgba(0, 160, 60, .8); padding: .1rem .15rem">toward positive</span> '
               '<span style="background: rgba(220, 40, 40, .8); padding: .1rem .15rem">toward negative</span> '
               "(hover a word for its value)")


def write_shaded_html(path, title, summary, tokens, values):
    """A self-contained page: the summary, then each token shaded by its value (`shaded_words`)."""
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        "<style>body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }"
        " .text { line-height: 2; font-size: 1.05rem; }</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(summary)}</p>\n<p>{SHADING_KEY}</p>\n"
        f'<p class="text">{shaded_words(tokens, values)}</p>\n</body></html>\n'
    )
    files.write_text(path, page)
    return path
