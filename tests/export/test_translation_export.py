"""A translation export: raw sentences in, translations out; a fresh process translates as the trained model
did, and every awkward batch gets an answer."""

import pytest
import tensorflow as tf

from keras_apps.export.saved_model import export_model, load_serving
from keras_apps.inference.serving import translation_endpoint
from keras_apps.models.translator import TranslatorConfig, build_translator
from keras_apps.text.translation_tokens import SentenceTokenizer, learn_vocabulary
from tests.conftest import TINY_PAIRS, run_python, sharpen_translator

SENTENCES = ["Where is the station?", "I like coffee.", "Tom is tall."]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    english = SentenceTokenizer(learn_vocabulary([pair[0] for pair in TINY_PAIRS] * 20, 200), max_length=12)
    spanish = SentenceTokenizer(learn_vocabulary([pair[1] for pair in TINY_PAIRS] * 20, 200), max_length=12)
    config = TranslatorConfig(english.vocabulary_size(), spanish.vocabulary_size(), max_length=12, num_layers=1,
                              num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)
    model = sharpen_translator(build_translator(config), end_bias=0.0)
    function, signature = translation_endpoint(model, english, spanish, beam_size=3)
    serve = tf.function(function, input_signature=signature)
    path = export_model(model, tmp_path_factory.mktemp("export"), {"translate": (serve, signature)},
                        track=[english.tokenizer, spanish.tokenizer])
    return path, serve


def _translate(serve, sentences):
    return [text.decode("utf-8") for text in serve(tf.constant(sentences, tf.string))["translations"].numpy()]


def test_a_fresh_process_translates_as_the_trained_model_did(exported):
    path, serve = exported
    completed = run_python("tests/export/reload_translate.py", str(path), *SENTENCES)
    assert completed.returncode == 0, completed.stderr[-3000:]
    expected = _translate(serve, SENTENCES)
    assert completed.stdout.splitlines() == expected
    assert any(expected)  # not all empty: the comparison has something to compare


def test_translate_is_the_default_signature(exported):
    path, _ = exported
    _, serve = load_serving(path)
    assert set(serve.structured_input_signature[1]) == {"sentences"}


def test_awkward_batches_are_answered(exported):
    _, serve = exported
    alone = _translate(serve, SENTENCES[:1])
    awkward = [text.encode() for text in ["", "word " * 2000, "☃ 😀 ∮ ஆ", SENTENCES[0]]] + [b"\xff\xfe not UTF-8 \xc3"]
    translations = _translate(serve, awkward)
    assert len(translations) == len(awkward) and all(isinstance(text, str) for text in translations)
    assert translations[3] == alone[0]  # the rest of the batch does not change a sentence's translation
    assert translations[0] == "" and _translate(serve, ["", "   "]) == ["", ""]
    assert _translate(serve, []) == []


def test_a_sentence_typed_with_a_curly_apostrophe_is_the_sentence_typed_with_a_straight_one(exported):
    """Phones and word processors write I’m; the training pairs, like Tatoeba's, write I'm."""
    _, serve = exported
    assert _translate(serve, ["I’m fine…", "“Hi.”"]) == _translate(serve, ["I'm fine...", '"Hi."'])
