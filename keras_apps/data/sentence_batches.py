"""Batches of sentence pairs padded only as far as their longest member, for translation.

Tatoeba's sentences are short (median 8 WordPiece tokens, 99th percentile 21) but some run past 60, so
padding every batch to the longest sentence wastes most of the compute. Instead, each pool of
`pool_batches` batches is sorted by length and cut into batches of similar lengths, each padded to a
multiple of `pad_multiple` (a handful of shapes, so a compiled step is reused), and the batches are
shuffled. The number of batches is known in advance, as the runner's learning-rate schedule needs.

Elements are `({"source_ids", "target_ids"}, labels, weights)`: `target_ids` is the target without its
last token, `labels` without its first, and `weights` is 1 on real tokens and 0 on padding, so that the
loss and accuracy count real tokens only.
"""

import tensorflow as tf

from keras_apps.data.autotune import without_autotune


def _model_inputs(source, target, multiple):
    """Pads a batch (both sides to the same length, a multiple of `multiple`: fewer distinct shapes for a
    compiled step) and splits the target into decoder inputs (no `[END]`) and labels (no `[START]`)."""
    decoder_inputs, labels = target[:, :-1], target[:, 1:]
    length = tf.maximum(tf.reduce_max(source.row_lengths()), tf.reduce_max(labels.row_lengths()))
    shape = tf.stack([source.nrows(), (length + multiple - 1) // multiple * multiple])
    labels = labels.to_tensor(shape=shape)
    weights = tf.cast(labels != 0, tf.float32)
    return {"source_ids": source.to_tensor(shape=shape), "target_ids": decoder_inputs.to_tensor(shape=shape)}, \
        labels, weights


def sentence_batches(
    source_ids, target_ids, batch_size, *, shuffle=False, seed=None, pool_batches=64, pad_multiple=8
):
    """A `tf.data.Dataset` of length-grouped, padded batches (see the module docstring).

    Args:
        source_ids: ragged `[pairs, None]` int32 source token ids.
        target_ids: ragged `[pairs, None]` int32 `[START] … [END]` target ids.
        batch_size: pairs per batch; a last incomplete batch is dropped when shuffling (training), kept
            otherwise (evaluation sees every pair).
        shuffle: reshuffle the pairs and the order of batches every epoch.
    """
    count = int(source_ids.nrows())
    dataset = tf.data.Dataset.from_tensor_slices((source_ids, target_ids))
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.ragged_batch(batch_size * pool_batches)

    def length_sorted_batches(source, target):
        order = tf.argsort(tf.maximum(source.row_lengths(), target.row_lengths() - 1), stable=True)
        size = tf.shape(order)[0]
        full = size // batch_size * batch_size
        starts = tf.range(0, full if shuffle else size, batch_size)
        return tf.data.Dataset.from_tensor_slices(starts).map(
            lambda start: (tf.gather(source, order[start : start + batch_size]),
                           tf.gather(target, order[start : start + batch_size]))
        )

    dataset = dataset.flat_map(length_sorted_batches)
    if shuffle:
        dataset = dataset.shuffle(4 * pool_batches, seed=seed)
        batches = count // batch_size
    else:  # each pool keeps its last, smaller batch
        pool = batch_size * pool_batches
        batches = count // pool * pool_batches + -(-(count % pool) // batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    dataset = dataset.map(lambda source, target: _model_inputs(source, target, pad_multiple),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return without_autotune(dataset.prefetch(tf.data.AUTOTUNE))
