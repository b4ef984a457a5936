"""IMDB movie reviews (Maas et al., 2011): labeled train and test splits and the 50,000 unlabeled reviews.

Read from `aclImdb_v1.tar.gz`, extracted once into the cache (see `keras_apps.data.archives`). Reviews
keep their text; the HTML line breaks the site left in them (`<br />`) become spaces, and the few curly quotes
and other typographic forms of ASCII punctuation are written as the rest write them, HTML's escapes decoded
(`plain_text`).
"""

import hashlib
import html.entities
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_apps import files, settings
from keras_apps.data.archives import cached_extraction
from keras_apps.data.fingerprint import fingerprint
from keras_apps.data.locate import RemoteFile, locate
from keras_apps.errors import UserError
from keras_apps.text.normalize import LINE_BREAKS, cleaned_in_graph, plain_text

# The sha256 of the download (checked by `locate` on download only); the copy in the shared data is a re-pack.
IMDB_FILE = RemoteFile(
    name="aclImdb_v1.tar.gz",
    origin="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
)
CLASS_NAMES = ("neg", "pos")
SIZES = {"train": 25_000, "test": 25_000, "unsup": 50_000}
REVIEW_CORPUS = "reviews-train-unsup.txt"  # `review_corpus`: what the RLHF stages' GPT learns
_LINE_BREAKS = re.compile(LINE_BREAKS)


@dataclass(frozen=True)
class LabeledTexts:
    """Texts and their integer labels (0: negative, 1: positive), and where known the reviewers' star ratings
    (1-4 negative, 7-10 positive: the `_<rating>` of each file's name)."""

    texts: list
    labels: np.ndarray
    ratings: np.ndarray | None = None

    def __len__(self):
        return len(self.labels)

    def take(self, count):
        """`count` texts drawn at random, the same ones on every call (all when `count` is None). More than there
        are is a caller's mistake, never cut to fit: check a user's count first (`settings.count_within`).

        The files are ordered by class, so the first `count` would all be negative.
        """
        if count is not None and count > len(self):
            raise ValueError(f"cannot take {count:,} of {len(self):,} texts")
        if count is None or count == len(self):
            return self
        return self._select(np.random.default_rng(0).permutation(len(self))[:count])

    def split(self, fraction, seed=0):
        """`(rest, held_out)`: a random `fraction` held out, the classes in the same proportion in both."""
        rng = np.random.default_rng(seed)
        held_out = []
        for label in np.unique(self.labels):
            members = rng.permutation(np.flatnonzero(self.labels == label))
            held_out.append(members[: round(fraction * len(members))])
        held_out = np.sort(np.concatenate(held_out))
        rest = np.setdiff1d(np.arange(len(self)), held_out)
        return self._select(rng.permutation(rest)), self._select(held_out)

    def _select(self, indices):
        ratings = None if self.ratings is None else self.ratings[indices]
        return LabeledTexts([self.texts[index] for index in indices], self.labels[indices], ratings)


@dataclass(frozen=True)
class IMDB:
    train: LabeledTexts
    test: LabeledTexts
    unlabeled: list

    def take(self, split, count, flag):
        """`count` reviews of the labeled `split` ("train" or "test") drawn at random (`LabeledTexts.take`; all
        when `count` is None), a count larger than the split refused in one line naming `flag`."""
        reviews = getattr(self, split)
        name = {"train": "training", "test": "test"}[split]
        return reviews.take(settings.count_within(flag, count, len(reviews), f"reviews in IMDB's {name} split"))


def clean(text):
    """Decodes HTML's escapes, writes typographic punctuation as ASCII (`plain_text`), replaces each run of HTML
    line breaks with one space and trims the ends (as `sanitize` does in serving)."""
    return _LINE_BREAKS.sub(" ", plain_text(text)).strip()


def has_words(text):
    """Whether `text`, cleaned (`clean`), holds a letter or a digit. One without (markup, punctuation, control or
    invisible characters alone) gives a classifier nothing it learned to read: its answer, about 0.5, would read
    as one about the text."""
    return any(character.isalnum() for character in clean(text))


def cleaning_digest():
    """A digest of what `clean` does, to name what it wrote: its output on every character of Unicode's first
    plane, their HTML escapes, HTML's named escapes and line breaks. Any change to the cleaning that shows on them
    (`keras_apps.text.normalize`'s tables or code) changes it, with no version number to remember to raise."""
    characters = [chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000]  # less the surrogates
    escapes = [f"&#{ord(character)};&#x{ord(character):x};" for character in characters]
    probe = "".join(characters + escapes + [f"&{name}" for name in html.entities.html5] + ["a<br /><BR>b<br/>"])
    return hashlib.sha256(clean(probe).encode()).hexdigest()[:16]


def _id_and_rating(path):
    """The review id and star rating in a review file's name, `<id>_<rating>.txt` (rating 0: unlabeled)."""
    try:
        review_id, rating = path.stem.split("_")
        return int(review_id), int(rating)
    except ValueError:
        raise UserError(f"{path}: expected a file named <id>_<rating>.txt; the extracted dataset is damaged") from None


def _read_reviews(folder, *, with_ratings=False):
    """The reviews of one folder, in the order of their numeric ids, cleaned (with `with_ratings`, and their
    star ratings)."""
    paths = sorted(folder.glob("*.txt"), key=lambda path: _id_and_rating(path)[0])
    texts = []
    for path in paths:
        try:
            text = clean(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise UserError(f"{path} is not UTF-8 text ({exc}); the extracted dataset is damaged") from None
        if not text:
            raise UserError(f"{path} is empty; the extracted dataset is damaged")
        texts.append(text)
    return (texts, [_id_and_rating(path)[1] for path in paths]) if with_ratings else texts


def _check_count(split, count, expected, root):
    if expected is not None and count != expected:
        raise UserError(
            f"{root} is not a complete IMDB dataset: {split} has {count} reviews, expected {expected}; "
            f"delete {root.parent} so that it is extracted again; if this comes back, {IMDB_FILE.name} itself is "
            "incomplete: fetch it again"
        )


def read_labeled(root, split, *, expected=None):
    """`split` ("train" or "test") of an extracted `aclImdb/` folder; `train/unsup` is not part of it."""
    texts, labels, ratings = [], [], []
    for label, name in enumerate(CLASS_NAMES):
        reviews, stars = _read_reviews(Path(root) / split / name, with_ratings=True)
        texts += reviews
        labels += [label] * len(reviews)
        ratings += stars
    _check_count(split, len(texts), expected, Path(root))
    return LabeledTexts(texts, np.asarray(labels, np.int32), np.asarray(ratings, np.int32))


def read_unlabeled(root, *, expected=None):
    """The unlabeled reviews of `train/unsup`, for pre-training."""
    texts = _read_reviews(Path(root) / "train" / "unsup")
    _check_count("unsup", len(texts), expected, Path(root))
    return texts


def extracted_root(data_dir=None):
    """The `aclImdb/` folder, extracting the archive into the cache the first time."""
    archive = locate(IMDB_FILE, data_dir)
    root = cached_extraction(archive, archive.name.removesuffix(".tar.gz")) / "aclImdb"
    if not root.is_dir():
        raise UserError(f"{archive} does not hold an aclImdb/ folder; is it the IMDB archive?")
    return root


def load(data_dir=None, *, unlabeled=False, sizes=None):
    """The labeled splits, validated against `sizes` (default `SIZES`), and with `unlabeled` the unlabeled
    reviews too."""
    sizes = sizes or SIZES
    root = extracted_root(data_dir)
    return IMDB(
        train=read_labeled(root, "train", expected=sizes["train"]),
        test=read_labeled(root, "test", expected=sizes["test"]),
        unlabeled=read_unlabeled(root, expected=sizes["unsup"]) if unlabeled else [],
    )


def review_corpus(data_dir=None, *, sizes=None):
    """A text file of the training and unlabeled reviews (75,000), one per line in a seeded random order, for
    a language model of reviews; no test review is in it. Written once for each cleaning (`cleaning_digest`),
    beside the extracted archive: a corpus cleaned by older code is never trained on."""
    path = extracted_root(data_dir).parent / f"cleaned-{cleaning_digest()}" / REVIEW_CORPUS
    if not path.exists():
        data = load(data_dir, unlabeled=True, sizes=sizes)
        reviews = data.train.texts + data.unlabeled
        order = np.random.default_rng(0).permutation(len(reviews))
        files.write_text(path, "".join(reviews[index].replace("\n", " ") + "\n" for index in order))
    return path


def is_review_corpus(path):
    """Whether `path` is a review corpus `review_corpus` wrote (in a `cleaned-<digest>` folder of the cache), not
    a user's file of the same name."""
    path = Path(path)
    return path.name == REVIEW_CORPUS and path.parent.name.startswith("cleaned-")


def corpus_lines(texts):
    """`texts` (`tf.string`) written as `review_corpus` writes a review, in a graph: cleaned (`clean`) and on one
    line. What a GPT of the corpus reads a prompt as (`keras_apps.inference.serving.text_generation_endpoint`)."""
    import tensorflow as tf

    return tf.strings.regex_replace(tf.strings.strip(cleaned_in_graph(texts)), "\n", " ")


@dataclass(frozen=True)
class Splits:
    """The reviews as a run uses them: labeled train, validation and test, and unlabeled ones (or none)."""

    train: LabeledTexts
    validation: LabeledTexts
    test: LabeledTexts
    unlabeled: list

    def sizes(self):
        """How many reviews each split holds, as a run records them (its model card says so)."""
        return {"train_examples": len(self.train), "validation_examples": len(self.validation),
                "test_examples": len(self.test), "unlabeled_examples": len(self.unlabeled)}

    def fingerprint(self):
        """A short hash of every review a run learns from or picks its best epoch on, with its labels and ratings
        (`keras_apps.data.fingerprint`), which a run records: resumed, it refuses any that changed since."""
        learned = [part for split in (self.train, self.validation)
                   for part in (split.texts, split.labels, split.ratings) if part is not None]
        return fingerprint(*learned, self.unlabeled)


def run_splits(data_dir=None, *, validation_fraction, seed, train_examples=None, test_examples=None,
               unlabeled=False, unlabeled_examples=None, test_flag="--test-examples"):
    """`Splits`: `train_examples` training reviews (all by default) less a class-balanced `validation_fraction`,
    `test_examples` test reviews, and with `unlabeled` the first `unlabeled_examples` unlabeled ones.

    Each count is that of its flag (`--train-examples`, `test_flag`, `--unlabeled-examples`): one larger than
    the split is refused."""
    data = load(data_dir, unlabeled=unlabeled)
    if unlabeled:
        settings.count_within("--unlabeled-examples", unlabeled_examples, len(data.unlabeled),
                              "unlabeled reviews in IMDB")
    train, validation = data.take("train", train_examples, "--train-examples").split(validation_fraction, seed=seed)
    return Splits(train, validation, data.take("test", test_examples, test_flag), data.unlabeled[:unlabeled_examples])
