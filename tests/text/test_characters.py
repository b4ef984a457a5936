"""Character and byte tokenizers: round trips, unknown characters, and saving."""

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.text.characters import (
    UNKNOWN_CHARACTER, build_tokenizer, load_tokenizer, save_tokenizer, unknown_tokens,
)

TRAINING_TEXT = "To be, or not to be:\nthat is the question. ¿Qué?"


def test_characters_round_trip_with_one_id_each():
    tokenizer = build_tokenizer("char", TRAINING_TEXT)
    assert tokenizer.vocabulary_size() == len(set(TRAINING_TEXT)) + 1
    ids = tokenizer.tokenize(TRAINING_TEXT)
    assert ids.dtype == tf.int32 and ids.shape == (len(TRAINING_TEXT),) and int(tf.reduce_min(ids)) >= 1
    assert tokenizer.detokenize(ids).numpy().decode("utf-8") == TRAINING_TEXT


def test_unseen_characters_become_id_0_and_come_back_as_the_replacement_character():
    tokenizer = build_tokenizer("char", TRAINING_TEXT)
    ids = tokenizer.tokenize("bež").numpy()
    assert ids[0] > 0 and ids[1] > 0 and ids[2] == 0
    assert tokenizer.detokenize(ids).numpy().decode("utf-8") == "be" + UNKNOWN_CHARACTER


@pytest.mark.parametrize("kind", ["char", "wordpiece"])
def test_a_curly_quote_the_vocabulary_lacks_reads_as_its_ascii_one_it_has_stays(kind):
    """A prompt typed on a phone for a text with straight quotes; a text with curly quotes keeps them."""
    straight = build_tokenizer(kind, "It's the 'question'... To be, or not to be.")
    ids = straight.tokenize(["It’s the ‘question’…", "It's the 'question'..."]).to_list()
    assert ids[0] == ids[1] and unknown_tokens(straight, "It’s the ‘question’…") == (0, len(ids[0]))
    curly = build_tokenizer(kind, "It's the ‘question’… To be, or not to be.")
    assert curly.tokenize("‘question’").numpy().tolist() != curly.tokenize("'question'").numpy().tolist()


@pytest.mark.parametrize("kind", ["char", "wordpiece"])
def test_a_thin_space_or_a_soft_hyphen_in_a_prompt_reads_as_the_text_has_it(kind):
    """A space the text never has (thin, no-break, ideographic) is a space; an invisible character it never has
    (a soft hyphen, a zero-width space) is nothing: both were unknown tokens in the middle of the prompt."""
    tokenizer = build_tokenizer(kind, TRAINING_TEXT)
    typed = "to\u2009be,\u00a0or not\u3000to be\u00ad\u200b"
    assert tokenizer.tokenize(typed).numpy().tolist() == tokenizer.tokenize("to be, or not to be").numpy().tolist()
    assert unknown_tokens(tokenizer, typed)[0] == 0


@pytest.mark.parametrize("kind, text, counted", [("char", "bež", (1, 3)), ("char", "to be", (0, 5)),
                                                 ("wordpiece", "to be ☃", (1, 5)), ("byte", "bež ☃", (0, 8))])
def test_unknown_tokens_are_counted_for_each_kind(kind, text, counted):
    assert unknown_tokens(build_tokenizer(kind, TRAINING_TEXT), text) == counted


def test_a_batch_of_texts_gives_ragged_ids():
    tokenizer = build_tokenizer("char", TRAINING_TEXT)
    ids = tokenizer.tokenize(tf.constant(["to", "be, or"]))
    assert ids.shape[0] == 2 and list(ids.row_lengths().numpy()) == [2, 6]


def test_bytes_cover_any_text():
    tokenizer = build_tokenizer("byte", "")
    ids = tokenizer.tokenize("žluťoučký kůň")
    assert tokenizer.vocabulary_size() == 256 and len(ids) == len("žluťoučký kůň".encode("utf-8"))
    # keras-hub's tokenizers return Python strings eagerly; in a graph (as in an export), tensors.
    assert tf.function(tokenizer.detokenize)(ids).numpy().decode("utf-8") == "žluťoučký kůň"


@pytest.mark.parametrize("kind", ["char", "byte", "wordpiece"])
def test_a_saved_tokenizer_loads_as_the_same(kind, tmp_path):
    tokenizer = build_tokenizer(kind, TRAINING_TEXT)
    save_tokenizer(tokenizer, tmp_path / "tokenizer.json")
    loaded = load_tokenizer(tmp_path / "tokenizer.json")
    np.testing.assert_array_equal(loaded.tokenize(TRAINING_TEXT), tokenizer.tokenize(TRAINING_TEXT))


def test_a_corrupt_tokenizer_file_is_one_line(tmp_path):
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot read the tokenizer file"):
        load_tokenizer(tmp_path / "tokenizer.json")
    with pytest.raises(UserError, match="unknown tokenizer 'words'"):
        build_tokenizer("words", TRAINING_TEXT)
