"""WordPiece vocabularies learned from the training text, and the tokenizer that reads with them.

The vocabulary is a plain text file, one token per line (the format of BERT's `vocab.txt`), so a run
can save it, a later run can reuse it, and it travels inside every export.
"""

from pathlib import Path

import keras_hub
import tensorflow as tf

from keras_apps import files
from keras_apps.errors import UserError

# BERT's special tokens; `[PAD]` first so that padding is token id 0, which masking layers skip.
RESERVED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_ID = 0


def learn_vocabulary(texts, size, *, reserved_tokens=RESERVED_TOKENS, lowercase=True):
    """A WordPiece vocabulary of at most `size` tokens learned from `texts` (strings), `reserved_tokens` first.

    With `lowercase`, text is lowercased and stripped of accents first (BERT's uncased vocabularies);
    without it, case and accents are kept.
    """
    if size <= len(reserved_tokens):
        raise UserError(f"the vocabulary size must exceed {len(reserved_tokens)}, got {size}")
    dataset = tf.data.Dataset.from_tensor_slices(list(texts)).batch(1000)
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        dataset, vocabulary_size=size, lowercase=lowercase, strip_accents=lowercase,
        reserved_tokens=list(reserved_tokens),
    )


def save_vocabulary(vocabulary, path):
    files.write_text(path, "".join(f"{token}\n" for token in vocabulary))


def load_vocabulary(path, reserved_tokens=RESERVED_TOKENS):
    """Reads a vocabulary file, checking that it starts with the special tokens the models rely on."""
    path = Path(path)
    try:
        vocabulary = files.split_lines(path.read_text(encoding="utf-8"))  # a token may hold U+2028, not a newline
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the vocabulary {path}: {exc}") from None
    if vocabulary[: len(reserved_tokens)] != list(reserved_tokens):
        raise UserError(f"{path} is not a vocabulary of this kind: it must start with {', '.join(reserved_tokens)}")
    return vocabulary


def build_tokenizer(vocabulary, sequence_length=None):
    """A lowercasing WordPiece tokenizer; with `sequence_length`, ids are cut or padded with 0 to that length."""
    return keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True, sequence_length=sequence_length)
