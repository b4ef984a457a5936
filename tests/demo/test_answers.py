"""A tab's input as its export receives it, and the inputs the page refuses in one line; the exports are stand-ins
(tests/tasks drive each tab over an export its task made)."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.data import spoken_digits
from keras_apps.demo import answers
from keras_apps.errors import UserError
from keras_apps.explain import attention
from keras_apps.export import saved_model
from keras_apps.inference import translation
from keras_apps.text_classification import exports


def serving(answer, calls):
    """`load_serving` of an export whose latest version is `<folder>/2`, its signature recording each call."""
    def signature(**inputs):
        calls.append({name: np.asarray(value) for name, value in inputs.items()})
        return answer

    return lambda path, signature_name="serving_default", *, task=None, **kwargs: (path / "2", signature)


@pytest.fixture
def generation(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(saved_model, "load_serving", serving({"text": tf.constant("a reply")}, calls))
    return answers.GenerationAnswers(tmp_path), calls


def test_a_generation_request_reaches_the_export_as_asked(generation, tmp_path):
    gpt, calls = generation
    assert gpt.export_path == tmp_path / "2" and gpt.answer("Once", 12.0, 0.7, 3) == "a reply"
    (call,) = calls
    assert (call["prompt"], call["max_new_tokens"], call["seed"]) == (b"Once", 12, 3)
    assert call["temperature"] == pytest.approx(0.7)


@pytest.mark.parametrize("prompt, length, temperature, seed, message", [
    ("x" * (answers.MAX_PROMPT_CHARACTERS + 1), 8, 1.0, 0, "the prompt is 5,001 characters long"),
    ("x", 2.5, 1.0, 0, "the length must be a whole number, got 2.5"),
    ("x", None, 1.0, 0, "the length must be a whole number, got None"),
    ("x", 0, 1.0, 0, "the length must be 1 to 1,000 tokens, got 0"),
    ("x", answers.MAX_NEW_TOKENS + 1, 1.0, 0, "the length must be 1 to 1,000 tokens, got 1,001"),
    ("x", 8, 1.0, -1, "the seed must be in [0, 2147483647], got -1"),
    ("x", 8, 1.0, 2**31, "the seed must be in [0, 2147483647], got 2147483648"),
    ("x", 8, 0.0, 0, "the temperature must be above 0 and at most 5, got 0.0"),
    ("x", 8, answers.MAX_TEMPERATURE + 0.01, 0, "the temperature must be above 0 and at most 5, got 5.01"),
    ("x", 8, float("nan"), 0, "the temperature must be above 0 and at most 5, got nan"),
    ("a \ud800", 8, 1.0, 0, "the prompt holds a character that is not text ('\\ud800', half of a UTF-16 pair)"),
])
def test_a_generation_request_the_page_cannot_take_is_one_line(generation, prompt, length, temperature, seed,
                                                              message):
    gpt, calls = generation
    with pytest.raises(UserError, match=re.escape(message)):
        gpt.answer(prompt, length, temperature, seed)
    assert calls == []


def test_the_largest_generation_request_the_page_takes_is_answered(generation):
    gpt, calls = generation
    gpt.answer("x" * answers.MAX_PROMPT_CHARACTERS, answers.MAX_NEW_TOKENS, answers.MAX_TEMPERATURE, 2**31 - 1)
    assert len(calls) == 1


class Explainer:
    """A review export's explainer: P(positive) 0.8 for any review."""

    def __init__(self, export_path, task, has_gradients):
        self.export_path, self.has_gradients, self.explained = export_path / "2", has_gradients, []

    def probability(self, texts):
        return np.array([0.8] * len(texts), np.float32)

    def explain(self, text, method):
        self.explained.append((text, method))
        return "explained"


@pytest.mark.parametrize("has_gradients, method", [(True, "ig"), (False, "lime")])
def test_a_review_is_explained_as_typed_by_the_method_its_export_allows(has_gradients, method, monkeypatch,
                                                                       tmp_path):
    monkeypatch.setattr(exports, "ReviewExplainer", lambda path, task: Explainer(path, task, has_gradients))
    reviews = answers.ReviewAnswers(tmp_path)
    assert reviews.export_path == tmp_path / "2"
    assert reviews.answer("  A fine film.\n") == answers.ReviewAnswer(pytest.approx(0.8), "explained")
    reviews.answer("x" * answers.MAX_REVIEW_CHARACTERS, "occlusion")
    assert reviews.explainer.explained == [("A fine film.", method), ("x" * answers.MAX_REVIEW_CHARACTERS,
                                                                      "occlusion")]
    for review, message in (("  \n", "type a review first"),
                            ("x" * (answers.MAX_REVIEW_CHARACTERS + 1), "a review is 20,001 characters long"),
                            ("Fine \udc80", "a review holds a character that is not text")):  # a client's JSON
        with pytest.raises(UserError, match=message):
            reviews.answer(review)


class WordCounts:
    """A translation export's `SourceLengths` that reads each word as a token and at most 4 of them."""

    max_length = 4

    def __call__(self, sentences):
        return [len(sentence.split()) for sentence in sentences]


def test_a_sentence_is_translated_and_explained_by_the_version_the_tab_names(monkeypatch, tmp_path):
    calls, loaded = [], []
    monkeypatch.setattr(saved_model, "load_serving", serving({"translations": tf.constant(["hola"])}, calls))
    drawn = SimpleNamespace(draw=lambda text, path: loaded.append(("draw", text)))
    monkeypatch.setattr(attention.TranslationExport, "load", lambda path, task: loaded.append(path) or drawn)
    monkeypatch.setattr(translation, "SourceLengths", lambda path: loaded.append(path) or WordCounts())
    tab = answers.TranslationAnswers(tmp_path, tmp_path)
    assert tab.export_path == tmp_path / "2" and loaded == [tmp_path / "2", tmp_path / "2"]
    assert tab.answer(" one two three four ").translation == "hola"
    assert calls[0]["sentences"].tolist() == [b"one two three four"] and loaded[-1] == ("draw", "one two three four")
    with pytest.raises(UserError, match="the sentence is 5 tokens long and the model reads 4"):
        tab.answer("one two three four five")
    with pytest.raises(UserError, match="a sentence holds a character that is not text"):
        tab.answer("one \ud800")
    assert len(calls) == 1


def test_a_recording_reaches_the_export_whole(monkeypatch, tmp_path):
    calls = []
    probabilities = np.eye(10, dtype=np.float32)[[7]]
    monkeypatch.setattr(saved_model, "load_serving", serving({"probabilities": tf.constant(probabilities)}, calls))
    monkeypatch.setattr(spoken_digits, "read_recording", lambda path, shown: np.full(1234, 0.5, np.float32))
    tab = answers.SpokenDigitAnswers(tmp_path)
    assert tab.export_path == tmp_path / "2"
    assert tab.answer(str(tmp_path / "seven.wav")).tolist() == probabilities[0].tolist()
    assert calls[0]["audio"].shape == (1, 1234) and calls[0]["lengths"].tolist() == [1234]
    with pytest.raises(UserError, match="record or upload a WAV file first"):
        tab.answer(None)
