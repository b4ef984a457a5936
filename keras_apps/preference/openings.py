"""Reviews as the models of preference tuning read them: from their start, as the SFT model read them.

The SFT model learned from a corpus of one review per line, so in its eyes a review begins after a line break
(`[NL]`). A reward model scores a review from `[NL]` and its first tokens, which is also what a policy's
sample is: the opening words of a review and their continuation. Works eagerly and inside a serving graph.
"""

import tensorflow as tf

from keras_apps.data.autotune import without_autotune
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID


def review_openings(tokenizer, texts, length):
    """int32 `[batch, length]`: `[NL]` then the first `length − 1` tokens of each of `texts` (a `tf.string`
    batch or a list), padded at the end with `PAD_ID`. A review's own line breaks are spaces, as in the SFT
    corpus (`imdb.review_corpus`): `[NL]` is where a review begins, and a paragraph break read as one was the
    start of another review to a model that never saw a review go on after it."""
    texts = tf.strings.regex_replace(tf.convert_to_tensor(texts, tf.string), r"\s*[\r\n]+\s*", " ")
    ids = tokenizer.tokenize(texts)[:, : length - 1]
    rows = ids.nrows()
    ids = tf.concat([tf.RaggedTensor.from_tensor(tf.fill([rows, 1], NEWLINE_ID)), ids], axis=1)
    return ids.to_tensor(default_value=PAD_ID, shape=[None, length])


def rated_openings(tokenizer, texts, ratings, length, batch_size, *, training, seed=0):
    """A `tf.data` dataset of `(review_openings, rating)` batches, what a reward model trains on; shuffled and
    without a last short batch when `training`."""
    data = tf.data.Dataset.from_tensor_slices((review_openings(tokenizer, texts, length), ratings.astype("float32")))
    data = data.shuffle(len(ratings), seed=seed) if training else data
    return without_autotune(data.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE))


def opening_splits(tokenizer, splits, targets, length, batch_size, *, seed=0):
    """`(train, validation)`: `rated_openings` of `splits.train` (shuffled) and of `splits.validation` (IMDB
    `run_splits`), each review's target its field `targets` (`"ratings"` for a reward model, `"labels"` for a
    classifier)."""
    return tuple(rated_openings(tokenizer, split.texts, getattr(split, targets), length, batch_size,
                                training=training, seed=seed)
                 for split, training in ((splits.train, True), (splits.validation, False)))
