"""A tab's input turned into its export's answer. Each class loads its export once, when the page starts; an
input the model cannot take is a `UserError` whose one line the page shows.

What the page shows is what the export serves: probabilities, P(positive), translations and generated text come
from the SavedModel's own signatures; the explanations (heat map, shaded words, attention map) from the Keras
model the same export carries.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_apps.errors import UserError

MAX_REVIEW_CHARACTERS = 20_000  # IMDB's longest review is under 14,000
MAX_SENTENCE_CHARACTERS = 500  # the translator reads 48 tokens; a longer sentence is cut, not refused
MAX_PROMPT_CHARACTERS = 5_000
MAX_NEW_TOKENS = 1_000  # a page's request; the export itself allows more
MAX_TEMPERATURE = 5.0


def _text(value, what, limit):
    """`value` stripped; a `UserError` if it is empty, longer than `limit` characters, or not text (`_unicode`)."""
    text = _unicode((value or "").strip(), what)
    if not text:
        raise UserError(f"type {what} first")
    if len(text) > limit:
        raise UserError(f"{what} is {len(text):,} characters long; this page takes at most {limit:,}")
    return text


def _unicode(text, what):
    """`text`, or a `UserError` if it holds half of a UTF-16 pair (a surrogate), which a client's JSON can send and
    no UTF-8 text holds: the export would not be reached."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UserError(f"{what} holds a character that is not text ({text[exc.start]!a}, half of a UTF-16 "
                        f"pair)") from None
    return text


@dataclass(frozen=True)
class DigitAnswer:
    image: np.ndarray  # uint8 [28, 28]: the picture as the model read it
    probabilities: np.ndarray  # [10]
    explanation: object  # keras_apps.explain.images.ImageExplanation
    heat_map: Path  # the PNG of the image beside its explanation


class DigitAnswers:
    """The MNIST export: a drawing or an upload in MNIST's form, its class probabilities and an explanation."""

    def __init__(self, export_path, work_dir):
        from keras_apps.explain.images import ImageExplainer

        self.explainer = ImageExplainer(export_path, "mnist")
        self.export_path = self.explainer.export_path
        self.heat_map = Path(work_dir) / "digit-explained.png"

    def answer(self, picture, method="ig"):
        from keras_apps.data.image_files import digit_from_picture
        from keras_apps.explain.images import plot_explanations

        if picture is None:
            raise UserError("draw or upload a digit first")
        image = digit_from_picture(picture)
        probabilities = self.explainer.probabilities(image[None])[0]
        explained = self.explainer.explain(image, method)
        plot_explanations(image, [explained], self.heat_map, title="what the model read")
        return DigitAnswer(image, probabilities, explained, self.heat_map)

    def warm_up(self):
        stroke = np.zeros((28, 28), np.uint8)
        stroke[4:24, 12:16] = 255
        self.answer(stroke)


@dataclass(frozen=True)
class ReviewAnswer:
    probability: float  # the export's P(positive) of the review as typed
    explanation: object  # keras_apps.text_classification.exports.ReviewExplanation


class ReviewAnswers:
    """The IMDB export: P(positive) of a review and its words shaded by an explanation."""

    def __init__(self, export_path):
        from keras_apps.text_classification.exports import ReviewExplainer

        self.explainer = ReviewExplainer(export_path, "imdb")
        self.export_path = self.explainer.export_path
        self.default_method = "ig" if self.explainer.has_gradients else "lime"

    def answer(self, review, method=None):
        text = _text(review, "a review", MAX_REVIEW_CHARACTERS)
        probability = float(self.explainer.probability([text])[0])
        return ReviewAnswer(probability, self.explainer.explain(text, method or self.default_method))

    def warm_up(self):
        self.answer("A fine film, though the ending drags.")


@dataclass(frozen=True)
class TranslationAnswer:
    translation: str  # what the export's `translate` signature wrote
    attention_map: Path  # the PNG of where each written token looked


class TranslationAnswers:
    """The translation export: a sentence's translation and the cross-attention that wrote it."""

    def __init__(self, export_path, work_dir):
        from keras_apps.explain.attention import TranslationExport
        from keras_apps.export.saved_model import load_serving
        from keras_apps.inference.translation import SourceLengths

        self.export_path, self.serve = load_serving(export_path, signature="translate", task="translate")
        self.explained = TranslationExport.load(self.export_path, "translate")
        self.source_lengths = SourceLengths(self.export_path)
        self.attention_map = Path(work_dir) / "attention.png"

    def answer(self, sentence):
        """The translation, refused for a sentence longer than the model reads, which the command line translates
        in part with a note: the page has no place for a note beside the translation it shows."""
        text = _text(sentence, "a sentence", MAX_SENTENCE_CHARACTERS)
        (length,) = self.source_lengths([text])
        if length > self.source_lengths.max_length:
            raise UserError(f"the sentence is {length} tokens long and the model reads {self.source_lengths.max_length}"
                            f": translate it a sentence at a time")
        translation = self.serve(sentences=tf.constant([text]))["translations"].numpy()[0].decode("utf-8")
        self.explained.draw(text, self.attention_map)
        return TranslationAnswer(translation, self.attention_map)

    def warm_up(self):
        self.answer("Where is the station?")


class GenerationAnswers:
    """The GPT export: a prompt continued, seeded, through its `generate` signature."""

    def __init__(self, export_path):
        from keras_apps.export.saved_model import load_serving

        self.export_path, self.generate = load_serving(export_path, signature="generate", task="gpt")

    def answer(self, prompt, max_new_tokens, temperature, seed):
        prompt = _unicode(prompt or "", "the prompt")
        if len(prompt) > MAX_PROMPT_CHARACTERS:
            raise UserError(f"the prompt is {len(prompt):,} characters long; this page takes at most "
                            f"{MAX_PROMPT_CHARACTERS:,}")
        max_new_tokens, seed = _whole(max_new_tokens, "the length"), _whole(seed, "the seed")
        if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
            raise UserError(f"the length must be 1 to {MAX_NEW_TOKENS:,} tokens, got {max_new_tokens:,}")
        if not 0 <= seed < 2**31:
            raise UserError(f"the seed must be in [0, {2**31 - 1}], got {seed}")
        if temperature is None or not math.isfinite(temperature) or not 0 < temperature <= MAX_TEMPERATURE:
            raise UserError(f"the temperature must be above 0 and at most {MAX_TEMPERATURE:g}, got {temperature}")
        output = self.generate(prompt=tf.constant(prompt), max_new_tokens=tf.constant(max_new_tokens, tf.int32),
                               temperature=tf.constant(temperature, tf.float32), seed=tf.constant(seed, tf.int32))
        return output["text"].numpy().decode("utf-8", errors="replace")

    def warm_up(self):
        self.answer("", 8, 1.0, 0)


class SpokenDigitAnswers:
    """The speech export: the digit spoken in a WAV file (any rate, mono or stereo, PCM or float), resampled to
    the export's 8 kHz mono and its silence cut off as `predict` does (`spoken_digits.read_recording`)."""

    def __init__(self, export_path):
        from keras_apps.export.saved_model import load_serving

        self.export_path, self.serve = load_serving(export_path, task="speech")

    def answer(self, wav_path):
        """The probabilities of the digits 0-9 for the recording in `wav_path`."""
        from keras_apps.data.spoken_digits import read_recording

        if wav_path is None:
            raise UserError("record or upload a WAV file first")
        samples = read_recording(wav_path, shown=Path(wav_path).name)
        output = self.serve(audio=samples[None], lengths=np.array([len(samples)], np.int32))
        return output["probabilities"].numpy()[0]

    def warm_up(self):
        from keras_apps.data.spoken_digits import SAMPLE_RATE

        time = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
        self.serve(audio=(0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)[None],
                   lengths=np.array([SAMPLE_RATE // 2], np.int32))


def _whole(value, what):
    """`value` (a page's number field, which may hold a float or nothing) as an int; a `UserError` otherwise."""
    if value is None or not math.isfinite(value) or value != int(value):
        raise UserError(f"{what} must be a whole number, got {value}")
    return int(value)
