"""Sentences into token ids and back, for translation: one cased WordPiece vocabulary per language.

The special tokens live here and nowhere else. Every vocabulary starts with `[PAD]` (id 0, which the
models mask), `[UNK]`, `[START]` and `[END]`. A source sentence is its WordPiece ids; a target sentence is
`[START]`, its ids, `[END]`: the decoder reads it without the last token and learns to predict it without
the first. Decoded ids stop at the first `[END]` and are joined back into text with the spaces a writer
would use (no space before `.` `?` `!` or after `¿` `¡`).

Case and accents are kept (translations are scored on cased text, and `sí` is not `si`); input is NFC
normalized first, in training and in the serving graph alike.
"""

import tensorflow as tf

from keras_apps.text.spacing import respace

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[START]", "[END]")
PAD_ID, UNKNOWN_ID, START_ID, END_ID = range(len(SPECIAL_TOKENS))


def learn_vocabulary(texts, size):
    """A cased WordPiece vocabulary of at most `size` tokens, the special tokens first."""
    from keras_apps.text import vocabulary

    return vocabulary.learn_vocabulary(texts, size, reserved_tokens=SPECIAL_TOKENS, lowercase=False)


def load_vocabulary(path):
    from keras_apps.text import vocabulary

    return vocabulary.load_vocabulary(path, reserved_tokens=SPECIAL_TOKENS)


def normalize(texts):
    """NFC normalization of a batch of `tf.string` (tensorflow-text's ICU op, graph-safe)."""
    import tensorflow_text

    return tensorflow_text.normalize_utf8(texts, "NFC")


class SentenceTokenizer:
    """One language's WordPiece tokenizer, with the encoding and decoding translation needs.

    Args:
        vocabulary: the tokens (a list, `SPECIAL_TOKENS` first) or the path of a vocabulary file.
        max_length: positions a model reads; sentences are cut to fit (with their `[START]`/`[END]`).
    """

    def __init__(self, vocabulary, max_length):
        import keras_hub

        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=vocabulary, lowercase=False, strip_accents=False, oov_token="[UNK]", dtype="int32"
        )
        if self.tokenizer.get_vocabulary()[: len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS):
            raise ValueError(f"the vocabulary must start with {', '.join(SPECIAL_TOKENS)}")
        self.tokenizer.build(None)  # nothing to build, but an export tracks only built layers
        self.max_length = max_length
        # keras-hub runs its tokenizers in pure Python outside a graph; these always take the TensorFlow path,
        # so that eager calls (and the serving graph) get tensors.
        self._tokenize = tf.function(self.tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
        self._detokenize = tf.function(
            self.tokenizer.detokenize, input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)]
        )

    def vocabulary_size(self):
        return self.tokenizer.vocabulary_size()

    def token_ids(self, texts):
        """Ragged WordPiece ids of a batch of strings, uncut."""
        return self._tokenize(normalize(texts))

    def encode_source(self, texts):
        """Ragged ids cut to `max_length`."""
        return self.as_source(self.token_ids(texts))

    def as_source(self, ids):
        """`token_ids` output cut to `max_length`."""
        return ids[:, : self.max_length]

    def as_target(self, ids):
        """`token_ids` output as a target: `[START] ids [END]`, the ids cut so that decoder inputs and labels
        each fit `max_length`."""
        ids = ids[:, : self.max_length - 1]
        batch = ids.nrows()
        start = tf.fill([batch, 1], START_ID)
        end = tf.fill([batch, 1], END_ID)
        return tf.concat([tf.RaggedTensor.from_tensor(start), ids, tf.RaggedTensor.from_tensor(end)], axis=1)

    def decode(self, token_ids):
        """Strings from `[batch, length]` ids: up to the first `[END]`, special tokens dropped, spaced as text."""
        token_ids = tf.convert_to_tensor(token_ids, tf.int32)
        before_end = tf.cumsum(tf.cast(token_ids == END_ID, tf.int32), axis=1) == 0
        keep = before_end & ((token_ids >= len(SPECIAL_TOKENS)) | (token_ids == UNKNOWN_ID))
        ids = tf.ragged.boolean_mask(token_ids, keep)
        return respace(self._detokenize(ids))


def encode_pairs(pairs, source_tokenizer, target_tokenizer, *, keep_long):
    """Ragged source and `[START] … [END]` target ids of `(source, target)` pairs, framed for the model; without
    `keep_long`, pairs that do not fit the tokenizers' `max_length` are left out (with it, they are cut to fit)."""
    import tensorflow as tf

    source_ids = source_tokenizer.token_ids(tf.constant([source for source, _ in pairs]))
    target_ids = target_tokenizer.token_ids(tf.constant([target for _, target in pairs]))
    if not keep_long:
        fits = ((source_ids.row_lengths() <= source_tokenizer.max_length)
                & (target_ids.row_lengths() < target_tokenizer.max_length))
        source_ids, target_ids = tf.ragged.boolean_mask(source_ids, fits), tf.ragged.boolean_mask(target_ids, fits)
    return source_tokenizer.as_source(source_ids), target_tokenizer.as_target(target_ids)
