"""Tokenizers for language modelling on a plain-text corpus: characters, bytes, or subwords.

`char` gives one id per character of the training text (Tiny Shakespeare: 65 of them), with id 0 for any
character outside it; `byte` (keras-hub's `ByteTokenizer`) gives one id per UTF-8 byte, 256 in all, so
any text is covered with no unknowns: the choice for larger or multilingual corpora; `wordpiece`
(`keras_apps.text.wordpieces`) gives one id per word or piece of a word of a lowercase vocabulary learned
from the training text: the choice for prose, where a model should write words rather than spell them.
Each lives inside the export, so the served model takes and returns text.
"""

import json

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.text.normalize import folded_in_graph, forms_unknown_to
from keras_apps.text.tokenizer_kinds import TOKENIZERS
from keras_apps.text.wordpieces import WordPieceText

UNKNOWN_CHARACTER = "\ufffd"  # U+FFFD, what id 0 turns back into


@keras.saving.register_keras_serializable(package="keras_apps")
class CharacterTokenizer(keras.layers.Layer):
    """Maps text to one id per Unicode character and back; id 0 stands for every unknown character. A curly quote
    or another typographic form of ASCII punctuation the characters lack is read as its ASCII (a prompt typed on a
    phone for Tiny Shakespeare, whose text has only straight quotes)."""

    def __init__(self, characters, **kwargs):
        super().__init__(**kwargs)
        self.characters = list(characters)
        lookup = dict(vocabulary=self.characters, num_oov_indices=1, oov_token=UNKNOWN_CHARACTER, mask_token=None)
        self._ids = keras.layers.StringLookup(**lookup, name="character_ids")
        self._characters = keras.layers.StringLookup(**lookup, invert=True, name="id_characters")
        self._typography = forms_unknown_to(set(self.characters).__contains__)
        self.built = True  # no weights: the lookup tables are complete at construction

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text) - {UNKNOWN_CHARACTER}))

    def vocabulary_size(self):
        return len(self.characters) + 1

    def tokenize(self, text):
        """int32 ids of a string (1-D) or of a batch of strings (ragged)."""
        text = folded_in_graph(text, self._typography)
        return tf.cast(self._ids(tf.strings.unicode_split(text, "UTF-8")), tf.int32)

    def detokenize(self, token_ids):
        return tf.strings.reduce_join(self._characters(tf.cast(token_ids, tf.int64)), axis=-1)

    def call(self, text):
        return self.tokenize(text)

    def get_config(self):
        return {**super().get_config(), "characters": self.characters}


def build_tokenizer(kind, training_text):
    """A `char` or `wordpiece` tokenizer learned from `training_text`, or the fixed `byte` tokenizer."""
    if kind == "char":
        return CharacterTokenizer.from_text(training_text)
    if kind == "wordpiece":
        print("Learning a WordPiece vocabulary from the training text", flush=True)
        return WordPieceText.from_text(training_text)
    if kind == "byte":
        return _byte_tokenizer()
    raise UserError(f"unknown tokenizer {kind!r}; choose one of {', '.join(TOKENIZERS)}")


def _byte_tokenizer():
    """keras-hub's byte tokenizer, marked built: it has no weights to build, but an export tracks it and Keras
    exports only layers marked built, which `tokenize` (unlike calling the layer) never does."""
    tokenizer = keras_hub.tokenizers.ByteTokenizer()
    tokenizer.build(None)
    return tokenizer


def token_ids(tokenizer, text):
    """The ids of `text` (a Python string) as a NumPy array, from any of the three: keras-hub's byte tokenizer
    answers a string with a NumPy array, ours with a tensor."""
    return np.asarray(tokenizer.tokenize(text))


def unknown_tokens(tokenizer, text):
    """`(unknown, tokens)`: how many of `text`'s tokens the tokenizer does not know (characters outside a `char`
    vocabulary, words a WordPiece vocabulary cannot spell), each read by the model as one unknown token, and how
    many it has; the byte tokenizer knows every text."""
    from keras_apps.text.wordpieces import UNKNOWN_ID

    unknown_id = {CharacterTokenizer: 0, WordPieceText: UNKNOWN_ID}.get(type(tokenizer))
    ids = token_ids(tokenizer, text)
    return (0 if unknown_id is None else int((ids == unknown_id).sum())), len(ids)


def save_tokenizer(tokenizer, path):
    """Writes what rebuilds `tokenizer` as JSON (a character vocabulary may hold newlines: not one per line)."""
    if isinstance(tokenizer, CharacterTokenizer):
        record = {"kind": "char", "characters": tokenizer.characters}
    elif isinstance(tokenizer, WordPieceText):
        record = {"kind": "wordpiece", "vocabulary": tokenizer.vocabulary}
    else:
        record = {"kind": "byte"}
    files.write_json(path, record)


def load_tokenizer(path):
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        kind = record["kind"]
        if kind == "char":
            return CharacterTokenizer(record["characters"])
        if kind == "wordpiece":
            return WordPieceText(record["vocabulary"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"cannot read the tokenizer file {path}: {exc}") from None
    return build_tokenizer(kind, "")
