"""tf.data pipelines for text: encode once and cache, then shuffle, batch and prefetch every epoch.

Encoding (tokenizing, vectorizing) a review is the costly part and gives the same result every epoch, so
it runs once, in parallel batches, and is cached; masked-LM masking is the opposite, drawn afresh each
epoch after the cache, so the model never sees the same masks twice (RoBERTa's dynamic masking), and so may
the part of each text that a masked-LM example reads (`keras_apps.text.truncation.keep_random_window`). Afresh,
that is, as long as one iterator reads every epoch (the runner's `fit` does): once a global seed is set, a
new iterator replays the same draws.
"""

import numpy as np
import tensorflow as tf

from keras_apps.data.autotune import without_autotune

_ENCODE_BATCH = 512


def encoded_texts(texts, encode):
    """A cached, unbatched dataset of `encode(texts)`, where `encode` maps a batch of strings to model inputs."""
    dataset = tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), tf.string))
    dataset = dataset.batch(_ENCODE_BATCH).map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.unbatch().apply(tf.data.experimental.assert_cardinality(len(texts)))


def text_dataset(texts, labels, encode, batch_size, *, shuffle=False, seed=None, drop_remainder=False):
    """A batched, prefetched `tf.data.Dataset` of `(encoded inputs, float32 labels)`."""
    labels = tf.data.Dataset.from_tensor_slices(np.asarray(labels, np.float32))
    dataset = tf.data.Dataset.zip(encoded_texts(texts, encode), labels).cache()
    if shuffle:
        dataset = dataset.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    return without_autotune(dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE))


def masked_lm_dataset(
    texts, tokenize, frame, mask_generator, batch_size, *, shuffle=False, seed=None, drop_remainder=False
):
    """`(inputs with mask_positions, masked token ids, mask weights)` batches for masked-LM pre-training.

    Args:
        tokenize: maps a batch of strings to a ragged batch of token ids; runs once, before the cache.
        frame: maps a ragged batch of token ids to the backbone's input dictionary (with `token_ids`); runs
            each epoch, after the cache, so that what it keeps of a long text can change from epoch to epoch.
        mask_generator: a `keras_hub.layers.MaskedLMMaskGenerator`, applied to each batch's `token_ids`.
    """

    def frame_and_mask(token_ids):
        inputs = frame(token_ids)
        masked = mask_generator(inputs["token_ids"])
        features = {**inputs, "token_ids": masked["token_ids"], "mask_positions": masked["mask_positions"]}
        return features, masked["mask_ids"], masked["mask_weights"]

    dataset = encoded_texts(texts, tokenize).cache()
    if shuffle:
        dataset = dataset.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.ragged_batch(batch_size, drop_remainder=drop_remainder)
    return without_autotune(dataset.map(frame_and_mask, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
