"""Subword tokens for language modelling on prose: a lowercase WordPiece vocabulary learned from the text.

A character model spends its capacity on spelling and writes letters; a model over subwords (whole common
words, pieces of rare ones) writes words, as GPT does with its byte-pair vocabulary. The vocabulary is
learned from a sample of the training text's lines (keras-hub's `compute_word_piece_vocabulary`), text is
lowercased and stripped of accents (as BERT's uncased vocabularies), and each line break is a token of its
own, `[NL]`, so that a corpus of one review per line keeps its reviews apart and a model can end one.
Text comes back spaced as a writer would type it (`keras_apps.text.spacing`).
"""

import weakref

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from keras_apps.text.normalize import folded_in_graph, forms_unknown_to
from keras_apps.text.spacing import respace

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[NL]")
PAD_ID, UNKNOWN_ID, NEWLINE_ID = range(len(SPECIAL_TOKENS))
VOCABULARY_SIZE = 4096
LEARNING_LINES = 10_000  # learning from every line of a large corpus takes minutes and gives the same pieces
UNKNOWN_CHARACTER = "\ufffd"


def learn_vocabulary(text, size=VOCABULARY_SIZE, sample_lines=LEARNING_LINES, seed=0):
    """A vocabulary of at most `size` tokens, `SPECIAL_TOKENS` first, learned from up to `sample_lines` of the
    lines of `text` drawn at random."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) > sample_lines:
        lines = [lines[index] for index in np.sort(np.random.default_rng(seed).choice(len(lines), sample_lines,
                                                                                      replace=False))]
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(lines or [""]).batch(1000), vocabulary_size=size, lowercase=True,
        strip_accents=True, reserved_tokens=list(SPECIAL_TOKENS))


@keras.saving.register_keras_serializable(package="keras_apps")
class WordPieceText(keras.layers.Layer):
    """Text to WordPiece ids and back, line breaks kept as `[NL]` (see the module's docstring); a typographic form
    of ASCII punctuation the vocabulary lacks (a curly quote) is read as its ASCII, any other space as a space."""

    def __init__(self, vocabulary, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        if tuple(self.vocabulary[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a WordPiece vocabulary for text must start with {', '.join(SPECIAL_TOKENS)}")
        self.wordpiece = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.vocabulary, lowercase=True, strip_accents=True, oov_token="[UNK]", dtype="int32",
            special_tokens=["[NL]"], special_tokens_in_strings=True, name="wordpiece")
        self.wordpiece.build(None)  # nothing to build, but an export tracks only built layers
        self._continues_a_word = tf.constant([token.startswith("##") for token in self.vocabulary])
        known = set(self.vocabulary) | {" "}  # a space is no token: it is where WordPiece splits words
        self._typography = forms_unknown_to(known.__contains__)
        self.built = True

    @classmethod
    def from_text(cls, text, size=VOCABULARY_SIZE):
        return cls(learn_vocabulary(text, size))

    def vocabulary_size(self):
        return len(self.vocabulary)

    def tokenize(self, text):
        """int32 ids of a string (1-D) or of a batch of strings (ragged), as tensors eagerly and in a graph."""
        text = tf.convert_to_tensor(text, tf.string)
        return _in_graph(self, "_tokenize", text)

    def detokenize(self, token_ids):
        """The text of 1-D ids (a string) or of a batch of rows of ids (strings); `[PAD]` is dropped, an unknown
        piece comes back as U+FFFD. Text that starts with a whole word starts with a space, so that a continuation
        appends to the text before it as written (`prompt + completion`)."""
        token_ids = tf.convert_to_tensor(token_ids, tf.int32)
        return _in_graph(self, "_detokenize", token_ids)

    def _tokenize(self, text):
        text = folded_in_graph(text, self._typography)
        text = tf.strings.regex_replace(text, r"\[NL\]", "[ NL ]")  # typed, the characters: no line break
        return self.wordpiece.tokenize(tf.strings.regex_replace(text, r"\r?\n", " [NL] "))

    def _detokenize(self, token_ids):
        first = token_ids[..., :1]
        joined = tf.reduce_any(tf.gather(self._continues_a_word, first), axis=-1) | (tf.shape(first)[-1] == 0)
        text = tf.where(joined, "", " ") + self.wordpiece.detokenize(token_ids)
        text = tf.strings.regex_replace(text, r"^##", "")  # a first piece that continues the text before it
        text = tf.strings.regex_replace(text, r"\s*\[PAD\]", "")
        text = tf.strings.regex_replace(text, r"\[UNK\]", UNKNOWN_CHARACTER)
        return tf.strings.regex_replace(respace(text), r" ?\[NL\] ?", "\n")

    def call(self, text):
        return self.tokenize(text)

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary}


_GRAPHS = weakref.WeakKeyDictionary()  # a tokenizer -> its eager calls' graph functions, by method and rank


def _in_graph(tokenizer, method, tensor):
    """`tokenizer.method(tensor)` inside a graph: keras-hub's tokenizers turn their results into Python lists and
    strings when called eagerly; here they always give tensors. Eager calls reuse one graph function per
    tokenizer, method and rank of input, traced once (a trace takes a second; a reward scores every batch)."""
    if not tf.executing_eagerly():
        return getattr(tokenizer, method)(tensor)
    graphs, key = _GRAPHS.setdefault(tokenizer, {}), (method, tensor.shape.rank)
    if key not in graphs:
        held = weakref.ref(tokenizer)  # a strong reference would keep the tokenizer in the cache for ever
        graphs[key] = tf.function(lambda tensor: getattr(held(), method)(tensor), autograph=False,
                                  input_signature=[tf.TensorSpec([None] * tensor.shape.rank, tensor.dtype)])
    return graphs[key](tensor)
