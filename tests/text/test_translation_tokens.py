"""Translation tokens: cased vocabularies with the special tokens first, [START]/[END] added once, text back."""

import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.text.translation_tokens import (
    END_ID, PAD_ID, SPECIAL_TOKENS, START_ID, SentenceTokenizer, encode_pairs, learn_vocabulary, load_vocabulary,
)
from keras_apps.text.vocabulary import save_vocabulary
from tests.conftest import TINY_PAIRS

SPANISH = [spanish for _, spanish in TINY_PAIRS] * 20  # repeated: the learner ignores rare words
ENGLISH = [english for english, _ in TINY_PAIRS] * 20


@pytest.fixture(scope="module")
def spanish():
    return SentenceTokenizer(learn_vocabulary(SPANISH, 300), max_length=8)


def test_the_vocabulary_is_cased_keeps_accents_and_starts_with_the_special_tokens(tmp_path):
    vocabulary = learn_vocabulary(SPANISH, 300)
    assert vocabulary[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)
    assert {"Estoy", "¿", "¡", "está"} <= set(vocabulary)
    save_vocabulary(vocabulary, tmp_path / "vocabulary.txt")
    assert load_vocabulary(tmp_path / "vocabulary.txt") == vocabulary
    save_vocabulary(["[PAD]", "[UNK]", "[CLS]", "x"], tmp_path / "bert.txt")
    with pytest.raises(UserError, match=r"\[START\]"):
        load_vocabulary(tmp_path / "bert.txt")


def test_targets_are_framed_by_start_and_end_and_cut_to_fit(spanish):
    ids = spanish.as_target(spanish.token_ids(tf.constant(["Estoy bien.", "Me gusta el café. " * 5]))).to_list()
    assert ids[0][0] == START_ID and ids[0][-1] == END_ID and len(ids[0]) == 2 + 3
    assert len(ids[1]) == spanish.max_length + 1  # decoder inputs and labels are each max_length long
    assert len(spanish.encode_source(tf.constant(["Me gusta el café. " * 5])).to_list()[0]) == spanish.max_length


def test_decoding_stops_at_end_drops_special_tokens_and_spaces_like_text(spanish):
    sentences = ["¿Dónde está la estación?", "¡Corre!", "Sí, lo es."]
    ids = spanish.as_target(spanish.token_ids(tf.constant(sentences))).to_tensor()
    assert [text.decode() for text in spanish.decode(ids).numpy()] == sentences
    garbage_after_end = tf.concat([ids, tf.fill([3, 2], spanish.tokenizer.token_to_id("bien"))], axis=1)
    assert [text.decode() for text in spanish.decode(garbage_after_end).numpy()] == sentences
    assert spanish.decode(tf.constant([[START_ID, PAD_ID, PAD_ID]])).numpy()[0] == b""


def test_unknown_characters_become_the_unknown_token_and_survive_decoding(spanish):
    ids = spanish.encode_source(tf.constant(["Estoy 😀 bien."])).to_list()[0]
    assert 1 in ids
    assert spanish.decode(tf.constant([ids])).numpy()[0].decode() == "Estoy [UNK] bien."


def _length(tokenizer, text):
    return int(tokenizer.token_ids(tf.constant([text])).row_lengths()[0])


def test_without_keep_long_a_pair_is_kept_while_its_source_and_its_framed_target_fit(spanish):
    """A source may be `max_length` tokens long; a target at most `max_length - 1`, as `[START]` and `[END]` frame
    it into decoder inputs and labels of `max_length` each."""
    english = SentenceTokenizer(learn_vocabulary(ENGLISH, 300), max_length=8)
    pairs = [("I'm fine. Good morning.", "Hola."), ("Hi.", "Ve. El gato es negro."),
             ("Hi.", "Ve. ¿Dónde está la estación?")]
    tokens = [(_length(english, source), _length(spanish, target)) for source, target in pairs]
    assert tokens == [(8, 2), (2, 7), (2, 8)]
    source, target = encode_pairs(pairs, english, spanish, keep_long=False)
    assert source.row_lengths().numpy().tolist() == [8, 2] and target.row_lengths().numpy().tolist() == [4, 9]
    assert encode_pairs(pairs, english, spanish, keep_long=True)[0].nrows() == 3
