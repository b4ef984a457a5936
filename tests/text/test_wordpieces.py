"""WordPiece text: round trips through line breaks and punctuation, continuations, batches, unknowns."""

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID, UNKNOWN_CHARACTER, WordPieceText, learn_vocabulary

TRAINING_TEXT = ("I didn't like it. The plot was thin and the acting was worse.\n"
                 "It's 10/10, honestly! A wonderful film, with wonderful actors.\n"
                 "The movie was great; I liked the movies of this director.")


@pytest.fixture(scope="module")
def tokenizer():
    return WordPieceText.from_text(TRAINING_TEXT, size=200)


def _text(tensor):
    return tensor.numpy().decode("utf-8")


def test_text_round_trips_lowercased_with_its_line_breaks_and_a_writers_spacing(tokenizer):
    ids = tokenizer.tokenize("I didn't like it.\nIt's 10/10, honestly!")
    assert ids.dtype == tf.int32 and NEWLINE_ID in ids.numpy().tolist()
    assert _text(tokenizer.detokenize(ids)) == " i didn't like it.\nit's 10/10, honestly!"


def test_a_continuation_appends_to_the_text_before_it(tokenizer):
    ids = tokenizer.tokenize("the movie was great").numpy()
    whole = _text(tokenizer.detokenize(ids))
    for cut in range(len(ids) + 1):  # at word boundaries, inside words and at either end (no ids: no text)
        assert _text(tokenizer.detokenize(ids[:cut])) + _text(tokenizer.detokenize(ids[cut:])) == whole


def test_unknown_characters_come_back_as_the_replacement_character(tokenizer):
    ids = tokenizer.tokenize("great 猫")
    assert _text(tokenizer.detokenize(ids)) == " great " + UNKNOWN_CHARACTER


def test_batches_give_ragged_ids_and_padding_is_dropped(tokenizer):
    ids = tokenizer.tokenize(tf.constant(["the plot", "great"]))
    assert ids.shape[0] == 2 and isinstance(ids, tf.RaggedTensor)
    padded = ids.to_tensor(default_value=PAD_ID)
    assert [text.decode("utf-8") for text in tokenizer.detokenize(padded).numpy()] == [" the plot", " great"]


def test_it_works_inside_a_graph(tokenizer):
    ids = tf.function(tokenizer.tokenize)(tf.constant("wonderful actors"))
    assert _text(tf.function(tokenizer.detokenize)(ids)) == " wonderful actors"


def test_eager_calls_of_one_rank_are_traced_once_and_the_tokenizer_is_not_kept_alive():
    import gc
    import weakref

    from keras_apps.text import wordpieces

    tokenizer = WordPieceText.from_text(TRAINING_TEXT, size=200)
    for text in ("the plot", "a wonderful film", ["the plot"], ["a", "wonderful film", ""]):
        tokenizer.tokenize(text)
    for ids in ([[5, 6]], [[5], [6]], [5, 6, 7]):
        tokenizer.detokenize(ids)
    graphs = wordpieces._GRAPHS[tokenizer]
    assert sorted(graphs) == [("_detokenize", 1), ("_detokenize", 2), ("_tokenize", 0), ("_tokenize", 1)]
    assert all(graph.experimental_get_tracing_count() == 1 for graph in graphs.values())
    held = weakref.ref(tokenizer)
    del tokenizer, graphs
    gc.collect()
    assert held() is None


def test_the_vocabulary_starts_with_the_special_tokens_and_has_at_most_the_size_asked():
    vocabulary = learn_vocabulary(TRAINING_TEXT, size=120)
    assert vocabulary[:3] == ["[PAD]", "[UNK]", "[NL]"] and len(vocabulary) <= 120
    with pytest.raises(ValueError, match="must start with"):
        WordPieceText(["a", "b", "c"])


def test_learning_from_a_sample_of_the_lines_is_seeded():
    text = "\n".join(f"line {index} of words" for index in range(50))
    np.testing.assert_array_equal(learn_vocabulary(text, 80, sample_lines=10),
                                  learn_vocabulary(text, 80, sample_lines=10))


def test_a_typed_nl_is_its_characters_not_a_line_break(tokenizer):
    """A prompt holding `[NL]` as text ended a review and began another for a GPT of reviews."""
    ids = tokenizer.tokenize("great [NL] movie").numpy().tolist()
    assert NEWLINE_ID not in ids and "nl" in _text(tokenizer.detokenize(ids)).split()
