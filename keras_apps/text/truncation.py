"""Fitting long texts to a fixed number of tokens by keeping their beginning and their end.

Reviews state their verdict at the start and sum it up at the end; the middle retells the plot. Cutting a
long review to its first N tokens drops the summing-up, so `head_and_tail` keeps the first `head` tokens and
the last `length - head` (Sun et al., 2019, "How to Fine-Tune BERT for Text Classification", found the same
for BERT on IMDB). A BiLSTM reading 384 tokens scored 85.7 % on IMDB's test set with head and tail, 84.4 %
with the first 384. `bert_head_and_tail_encoder` does the same inside BERT's `[CLS] ... [SEP]` frame.

Pre-training wants the opposite of a fixed cut: `keep_random_window` keeps a window at a random place, drawn
afresh at each call, so that epochs of masked-LM training read every part of a long text rather than its
first tokens again and again.
"""

import keras_hub
import tensorflow as tf

from keras_apps.text.vocabulary import PAD_ID


def keep_head_and_tail(token_ids, length, head):
    """`token_ids` (a `tf.RaggedTensor`, one row per text) with each row cut to at most `length` tokens.

    A row longer than `length` keeps its first `head` and its last `length - head` tokens; shorter rows
    are kept whole.
    """
    if not 0 <= head <= length:
        raise ValueError(f"head must be in [0, {length}], got {head}")
    lengths = token_ids.row_lengths()
    positions = tf.ragged.range(lengths)
    last_kept = tf.expand_dims(tf.maximum(lengths - (length - head), head), axis=1)
    return tf.ragged.boolean_mask(token_ids, (positions < head) | (positions >= last_kept))


def keep_random_window(token_ids, length):
    """`token_ids` (a `tf.RaggedTensor`) with each row longer than `length` cut to `length` consecutive tokens
    from a uniformly random offset, drawn afresh at each call; shorter rows are kept whole."""
    lengths = token_ids.row_lengths()
    last_start = tf.maximum(lengths - length, 0)
    draws = tf.random.uniform(tf.shape(lengths)) * tf.cast(last_start + 1, tf.float32)
    starts = tf.expand_dims(tf.minimum(tf.cast(draws, lengths.dtype), last_start), axis=1)  # min: round-off
    positions = tf.ragged.range(lengths)
    return tf.ragged.boolean_mask(token_ids, (positions >= starts) & (positions < starts + length))


def head_and_tail(token_ids, length, head):
    """`keep_head_and_tail`, padded with `PAD_ID`: an int32 `[batch, length]` tensor."""
    kept = keep_head_and_tail(token_ids, length, head)
    return tf.cast(kept.to_tensor(default_value=PAD_ID, shape=[None, length]), tf.int32)


def head_and_tail_encoder(tokenizer, length, head):
    """A graph function: a batch of strings to `head_and_tail` ids of `tokenizer`'s (unpadded) tokens."""

    @tf.function
    def encode(texts):
        return head_and_tail(tokenizer(texts), length, head)

    return encode


def bert_frame(tokenizer, length):
    """A function: a ragged batch of `tokenizer`'s ids to BERT's inputs, `[CLS]`, the ids, `[SEP]`, padding.

    What `keras_hub.models.BertTextClassifierPreprocessor` gives for one segment (`token_ids`, zero
    `segment_ids`, `padding_mask`, each `[batch, length]`, here all int32); a row longer than `length - 2` keeps
    its beginning.
    """
    packer = keras_hub.layers.StartEndPacker(
        sequence_length=length, start_value=tokenizer.cls_token_id, end_value=tokenizer.sep_token_id,
        pad_value=tokenizer.pad_token_id, return_padding_mask=True,
    )

    def frame(token_ids):
        token_ids, padding_mask = packer(token_ids)
        token_ids = tf.cast(token_ids, tf.int32)
        padding_mask = tf.cast(padding_mask, tf.int32)  # the backbone's input type (a 0/1 mask), LiteRT's too
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids), "padding_mask": padding_mask}

    return frame


def bert_head_and_tail_encoder(tokenizer, length, head):
    """A graph function: a batch of strings to `bert_frame`'s inputs, where a long text keeps its head and
    tail (`head` tokens and `length - 2 - head`) rather than only its beginning."""
    frame = bert_frame(tokenizer, length)

    @tf.function
    def encode(texts):
        return frame(keep_head_and_tail(tokenizer(texts), length - 2, head))

    return encode
