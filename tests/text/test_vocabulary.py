import numpy as np
import pytest

from keras_apps.errors import UserError
from keras_apps.text.vocabulary import (
    PAD_ID, RESERVED_TOKENS, build_tokenizer, learn_vocabulary, load_vocabulary, save_vocabulary,
)
from tests.conftest import TINY_REVIEWS

TEXTS = [text for text, _ in TINY_REVIEWS]


@pytest.fixture(scope="module")
def vocabulary():
    return learn_vocabulary(TEXTS * 50, 120)  # Repeated: the learner ignores words seen only a few times.


def test_learned_vocabulary_starts_with_the_special_tokens_and_respects_the_size(vocabulary):
    assert vocabulary[: len(RESERVED_TOKENS)] == list(RESERVED_TOKENS)
    assert vocabulary[PAD_ID] == "[PAD]"
    assert len(RESERVED_TOKENS) < len(vocabulary) <= 120
    assert "movie" in vocabulary and "Movie" not in vocabulary  # lowercased


def test_save_and_load_round_trip(vocabulary, tmp_path):
    save_vocabulary(vocabulary, tmp_path / "vocabulary.txt")
    assert load_vocabulary(tmp_path / "vocabulary.txt") == vocabulary


def test_a_token_holding_a_line_separator_is_one_token_when_loaded(tmp_path):
    """The learner keeps U+2028 inside a word (it is not whitespace to it): read back split there, every later
    token's id moved by one."""
    learned = learn_vocabulary(["a\u2028b c"] * 50, 20)
    assert "a\u2028b" in learned
    save_vocabulary(learned, tmp_path / "vocabulary.txt")
    assert load_vocabulary(tmp_path / "vocabulary.txt") == learned


def test_load_refuses_a_file_without_the_special_tokens(tmp_path):
    (tmp_path / "vocabulary.txt").write_text("the\nmovie\n")
    with pytest.raises(UserError, match="must start with"):
        load_vocabulary(tmp_path / "vocabulary.txt")
    with pytest.raises(UserError, match="cannot read"):
        load_vocabulary(tmp_path / "missing.txt")


def test_too_small_a_vocabulary_is_refused():
    with pytest.raises(UserError, match="must exceed"):
        learn_vocabulary(TEXTS, len(RESERVED_TOKENS))


def test_tokenizer_pads_with_zero_and_cuts_to_the_sequence_length(vocabulary):
    tokens = np.asarray(build_tokenizer(vocabulary)("A great movie."))
    ids = np.asarray(build_tokenizer(vocabulary, sequence_length=12)(["A great movie.", " ".join(TEXTS)]))
    assert ids.shape == (2, 12) and 3 <= len(tokens) < 12
    np.testing.assert_array_equal(ids[0, : len(tokens)], tokens)
    assert (ids[0, len(tokens):] == PAD_ID).all() and (tokens != PAD_ID).all()
    assert (ids[1] != PAD_ID).all()
    assert vocabulary.index("[UNK]") not in tokens
