"""A plain-text corpus for language modelling: read whole, checked, and split contiguously.

The default corpus is Tiny Shakespeare (karpathy/char-rnn's `input.txt`, 1,115,394 characters); any UTF-8
text file works. The validation split is the corpus's last tenth, as in nanoGPT: contiguous, so that no
window of validation text also appears, overlapping, in training.
"""

from pathlib import Path

from keras_apps import files
from keras_apps.data.locate import RemoteFile, locate
from keras_apps.errors import UserError

TINY_SHAKESPEARE = RemoteFile(
    name="tinyshakespeare.txt",
    origin="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
)
TINY_SHAKESPEARE_CHARACTERS = 1_115_394


def read_corpus(path):
    """The text of a UTF-8 file (`files.read_text`); one-line errors for a missing or empty one too."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"text file {path} does not exist")
    text = files.read_text(path)
    if not text.strip():
        raise UserError(f"text file {path} is empty")
    return text


def load_corpus(text_file=None, data_dir=None):
    """`text_file`, or Tiny Shakespeare from the data directory (downloaded there when missing)."""
    if text_file is not None:
        return read_corpus(text_file)
    path = locate(TINY_SHAKESPEARE, data_dir)
    text = read_corpus(path)
    if len(text) != TINY_SHAKESPEARE_CHARACTERS:
        raise UserError(
            f"{path} has {len(text):,} characters, not Tiny Shakespeare's {TINY_SHAKESPEARE_CHARACTERS:,}: "
            f"truncated or a different file; delete it to download it again"
        )
    return text


def learned_text(recorded, text_file=None, data_dir=None):
    """`(text_file, text)`: `text_file`, else the text the export of `recorded` (its `export.json`) learned where
    this suite makes it from the data directory (the RLHF stages' review corpus), else Tiny Shakespeare: what a
    command measuring an export reads by default (`check_trained_on` then checks it is the export's)."""
    from keras_apps.data import imdb

    if text_file is None and (recorded.get("text") or {}).get("file") == imdb.REVIEW_CORPUS:
        text_file = imdb.review_corpus(data_dir)
    return text_file, load_corpus(text_file, data_dir)


def learned_reviews(text):
    """Whether a language model that learned `text` (its `text_record`) learned the RLHF stages' review corpus
    (`keras_apps.data.imdb.review_corpus`: cleaned reviews, one a line), as its record says; an export made before
    records said so is served as it was (its copies and policies too), as is a text of another name or folder."""
    return bool((text or {}).get("reviews"))


def text_record(text_file, text):
    """What a language model's export records of the text it learned: the file's name (Tiny Shakespeare's by
    default) and a fingerprint of its content, so that a command measuring it on a text can tell another one; and
    for the review corpus this suite wrote (`imdb.is_review_corpus`), that it is one (`learned_reviews`)."""
    from keras_apps.data import imdb
    from keras_apps.data.fingerprint import fingerprint

    record = {"file": Path(text_file).name if text_file is not None else TINY_SHAKESPEARE.name,
              "fingerprint": fingerprint(text)}
    return {**record, "reviews": True} if text_file is not None and imdb.is_review_corpus(text_file) else record


def check_trained_on(recorded, text_file, text, export_path):
    """Refuses, in one line, a text other than the one the export at `export_path` learned (`recorded`, its
    `export.json`; an export made before texts were recorded cannot be checked)."""
    learned = recorded.get("text")
    if learned is None and "tuned_by" in recorded:  # an RLHF policy is of reviews: no text would be its own
        raise UserError(f"the export at {export_path} is a policy tuned by {recorded['tuned_by']} before policies "
                        f"recorded their text: tune it again to measure it")
    if learned is not None and text_record(text_file, text)["fingerprint"] != learned["fingerprint"]:
        given = f"--text-file {text_file}" if text_file is not None else "Tiny Shakespeare"
        raise UserError(f"{given} is not the text the export at {export_path} learned ({learned['file']}): its "
                        f"validation loss is measured on its own text's last tenth")


def split_corpus(text, validation_fraction=0.1):
    """`(train_text, validation_text)`: the head and the tail of `text`."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    boundary = int(len(text) * (1 - validation_fraction))
    return text[:boundary], text[boundary:]
