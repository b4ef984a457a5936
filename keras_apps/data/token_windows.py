"""`tf.data` windows over one long sequence of token ids, for next-token prediction.

Each example is a window of `context_length + 1` consecutive tokens, split into inputs (all but the last)
and targets (all but the first), so every position of every window is one training example.
"""

import numpy as np
import tensorflow as tf

from keras_apps.data.autotune import without_autotune
from keras_apps.errors import UserError


def check_length(token_count, context_length, split):
    """Refuses, in one line, a `split` of `token_count` tokens too short for one window (`None`: not known yet,
    as a WordPiece text's count before its vocabulary is learned)."""
    if token_count is not None and token_count < context_length + 1:
        raise UserError(
            f"the {split} text has {token_count:,} tokens, fewer than one window of {context_length + 1}; "
            f"use a longer text or a shorter --context-length"
        )


def _inputs_and_targets(windows):
    return windows[:, :-1], windows[:, 1:]


def random_windows(token_ids, context_length, batch_size, steps, seed=0):
    """`steps` batches of windows at uniformly random offsets, drawn afresh on each pass (as nanoGPT does).

    Sampling offsets rather than cutting the text into fixed windows means the model sees every
    alignment of the text, and a "pass" can be any number of steps.
    """
    check_length(len(token_ids), context_length, "training")
    tokens = tf.constant(np.asarray(token_ids, dtype=np.int32))
    offsets_bound = len(token_ids) - context_length
    window_positions = tf.range(context_length + 1, dtype=tf.int64)

    def gather_windows(random_numbers):
        starts = random_numbers % offsets_bound
        return tf.gather(tokens, starts[:, None] + window_positions)

    return (
        tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        .batch(batch_size)
        .map(gather_windows, num_parallel_calls=tf.data.AUTOTUNE)
        .map(_inputs_and_targets)
        .take(steps)
        .prefetch(tf.data.AUTOTUNE)
        .apply(without_autotune)
    )


def evaluation_windows(token_ids, context_length, batch_size, max_batches=None, seed=0):
    """Consecutive non-overlapping windows, so each token is predicted once; with `max_batches`, a fixed
    seeded sample of them (the same at every evaluation, so successive losses are comparable)."""
    check_length(len(token_ids), context_length, "validation")
    token_ids = np.asarray(token_ids, dtype=np.int32)
    count = (len(token_ids) - 1) // context_length
    starts = np.arange(count) * context_length
    if max_batches is not None and max_batches * batch_size < count:
        starts = np.sort(np.random.default_rng(seed).choice(starts, max_batches * batch_size, replace=False))
    windows = token_ids[starts[:, None] + np.arange(context_length + 1)]
    return without_autotune(tf.data.Dataset.from_tensor_slices(windows).batch(batch_size).map(_inputs_and_targets))
