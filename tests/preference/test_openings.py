from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from keras_apps.preference.openings import opening_splits, rated_openings, review_openings
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID, WordPieceText

TEXT = "A wonderful film with wonderful actors.\nThe plot was thin and the acting was worse."


def test_openings_start_after_a_line_break_and_are_cut_and_padded_to_the_length():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    ids = review_openings(tokenizer, ["a wonderful film with wonderful actors", "worse"], 5).numpy()
    assert ids.shape == (2, 5) and ids.dtype == np.int32
    assert ids[:, 0].tolist() == [NEWLINE_ID, NEWLINE_ID]
    np.testing.assert_array_equal(ids[0, 1:], tokenizer.tokenize("a wonderful film with wonderful").numpy()[:4])
    worse = tokenizer.tokenize("worse").numpy()[:4].tolist()
    assert ids[1].tolist() == [NEWLINE_ID, *worse] + [PAD_ID] * (4 - len(worse))
    assert review_openings(tokenizer, ["worse"], 12).numpy()[0, -1] == PAD_ID


def test_a_review_s_paragraphs_are_read_as_one_review_as_the_sft_corpus_has_them():
    """The corpus holds one review per line, so `[NL]` begins a review; a review pasted with its paragraphs (from
    a text box or a file's Windows line endings) was read as several reviews: another score from the classifier
    and the reward."""
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    typed = ["A wonderful film.\nThe plot was thin.", "A wonderful film.\r\n\r\n  The plot was thin.\n"]
    one_line = review_openings(tokenizer, ["A wonderful film. The plot was thin."], 64).numpy().tolist()
    assert review_openings(tokenizer, typed, 64).numpy().tolist() == one_line * 2
    assert one_line[0].count(NEWLINE_ID) == 1 and one_line[0][-1] == PAD_ID  # the whole review, one [NL]


def test_openings_run_inside_a_graph():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    opening = tf.function(lambda texts: review_openings(tokenizer, texts, 4),
                          input_signature=[tf.TensorSpec([None], tf.string)])
    assert opening(tf.constant(["the plot", ""])).numpy().tolist()[1] == [NEWLINE_ID, PAD_ID, PAD_ID, PAD_ID]


def test_rated_openings_batch_the_openings_with_their_ratings():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    texts, ratings = ["a wonderful film", "worse", "the plot was thin"], np.array([9, 2, 4])
    training = rated_openings(tokenizer, texts, ratings, 6, 2, training=True, seed=0)
    assert not training.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    assert [len(labels) for _, labels in training] == [2]  # no short last batch while training
    (ids, labels), (_, last) = list(rated_openings(tokenizer, texts, ratings, 6, 2, training=False))
    assert ids.shape == (2, 6) and labels.dtype == tf.float32 and labels.numpy().tolist() == [9.0, 2.0]
    assert last.numpy().tolist() == [4.0]


def test_opening_splits_read_the_named_targets_and_keep_validation_in_order():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    split = SimpleNamespace(texts=["a wonderful film", "worse", "the plot was thin", "thin"],
                            ratings=np.array([9, 2, 4, 1]), labels=np.array([1, 0, 0, 0]))
    train, validation = opening_splits(tokenizer, SimpleNamespace(train=split, validation=split), "labels", 6, 4,
                                       seed=3)
    assert sorted(next(iter(train))[1].numpy().tolist()) == [0.0, 0.0, 0.0, 1.0]
    assert next(iter(validation))[1].numpy().tolist() == [1.0, 0.0, 0.0, 0.0]  # in order
