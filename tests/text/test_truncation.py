"""Head-and-tail truncation: long texts keep their beginning and end, short ones stay whole, all padded."""

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.text.truncation import (
    bert_head_and_tail_encoder, head_and_tail, head_and_tail_encoder, keep_random_window,
)
from keras_apps.text.vocabulary import build_tokenizer

ROWS = tf.ragged.constant([list(range(1, 11)), [1, 2, 3], [], [1, 2, 3, 4, 5, 6]], dtype=tf.int32)


@pytest.mark.parametrize(
    "head, first_row", [(2, [1, 2, 7, 8, 9, 10]), (0, [5, 6, 7, 8, 9, 10]), (6, [1, 2, 3, 4, 5, 6])]
)
def test_a_long_row_keeps_its_head_and_tail(head, first_row):
    ids = head_and_tail(ROWS, 6, head).numpy()
    assert ids.shape == (4, 6) and ids.dtype == np.int32
    np.testing.assert_array_equal(ids[0], first_row)
    np.testing.assert_array_equal(ids[1:], [[1, 2, 3, 0, 0, 0], [0] * 6, [1, 2, 3, 4, 5, 6]])


def test_head_beyond_the_length_is_refused():
    with pytest.raises(ValueError, match="head"):
        head_and_tail(ROWS, 6, 7)


def test_a_random_window_keeps_consecutive_tokens_from_every_offset_and_short_rows_whole():
    tf.random.set_seed(0)
    draws = 200  # one call on 200 copies of the rows: each row draws its own offset
    kept = keep_random_window(tf.concat([ROWS] * draws, axis=0), 6).to_list()
    starts = set()
    for copy in range(draws):
        first, *others = kept[4 * copy:4 * copy + 4]
        assert others == [[1, 2, 3], [], [1, 2, 3, 4, 5, 6]]
        assert len(first) == 6 and first == list(range(first[0], first[0] + 6))
        starts.add(first[0])
    assert starts == {1, 2, 3, 4, 5}  # every offset of the 10-token row, and no other


def test_the_encoder_tokenizes_then_truncates():
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", "e"]
    encode = head_and_tail_encoder(build_tokenizer(vocabulary), 4, head=1)
    ids = encode(tf.constant(["a b c d e", "B", ""])).numpy()
    np.testing.assert_array_equal(ids, [[5, 7, 8, 9], [6, 0, 0, 0], [0, 0, 0, 0]])


def test_the_bert_encoder_frames_the_head_and_tail_as_the_preprocessor_frames_a_short_text():
    import keras_hub

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", "e"]
    tokenizer = build_tokenizer(vocabulary)
    encode = bert_head_and_tail_encoder(tokenizer, 5, head=1)
    texts = tf.constant(["a b c d e", "b", ""])
    inputs = {name: tensor.numpy() for name, tensor in encode(texts).items()}
    np.testing.assert_array_equal(inputs["token_ids"], [[2, 5, 8, 9, 3], [2, 6, 3, 0, 0], [2, 3, 0, 0, 0]])
    np.testing.assert_array_equal(inputs["segment_ids"], np.zeros((3, 5)))
    np.testing.assert_array_equal(inputs["padding_mask"], inputs["token_ids"] != 0)
    reference = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=5)(texts[1:])
    for name, tensor in reference.items():
        np.testing.assert_array_equal(inputs[name][1:], tensor.numpy(), err_msg=name)
        assert inputs[name].dtype == np.int32, name  # the backbone's inputs (the preprocessor's mask is boolean)
