"""English–Spanish sentence pairs (Tatoeba, packaged by ManyThings as `spa-eng.zip`): read, normalized, split.

Tatoeba gives many sentences several translations ("I'm fine." has five). A split by pair would put one
translation of a sentence in training and another in the test split, and the model would be scored on
sentences it was taught. So pairs are split by *linked group* instead: pairs that share their English or
their Spanish sentence (directly or through other pairs) always land in the same split, and no sentence of
one split appears in another, in either language. The test split keeps every translation of its sentences,
which the evaluation uses as references.
"""

import io
import math
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from keras_apps import settings
from keras_apps.data.archives import READ_ERRORS, read_error
from keras_apps.data.locate import RemoteFile, locate
from keras_apps.errors import UserError
from keras_apps.text.normalize import plain_text

SPA_ENG = RemoteFile(
    name="spa-eng.zip",
    origin="http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip",
    sha256="0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f",
)
MEMBER = "spa-eng/spa.txt"
DIRECTIONS = ("en-es", "es-en")


def normalize(text):
    """NFC (one code point per accented letter, as users type them) with HTML's escapes decoded and typographic
    punctuation written as ASCII (`plain_text`, as the serving graph does) and runs of whitespace made one space.

    Nothing is lowercased or stripped of accents: `¿`, `¡`, `ñ` and `á` are part of the Spanish.
    """
    return " ".join(plain_text(unicodedata.normalize("NFC", text)).split())


def read_pairs(lines):
    """`(english, spanish)` pairs from lines of `English<TAB>Spanish`; a malformed line is a `UserError`."""
    pairs = []
    for number, line in enumerate(lines, start=1):
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise UserError(f"line {number} of the pairs is not 'English<TAB>Spanish': {line[:80]!r}")
        pairs.append((normalize(fields[0]), normalize(fields[1])))  # ManyThings' later files add a third field
    if not pairs:
        raise UserError("the pairs file is empty")
    return pairs


def load_pairs(data_dir=None):
    """Every pair of `spa-eng.zip` (found in the data directory, or downloaded), read from the zip directly."""
    path = locate(SPA_ENG, data_dir)
    try:
        with zipfile.ZipFile(path) as archive, archive.open(MEMBER) as member:
            return read_pairs(io.TextIOWrapper(member, encoding="utf-8"))
    except KeyError:
        raise UserError(f"{path} has no {MEMBER}: not the spa-eng archive; delete it to download it again") from None
    except READ_ERRORS as exc:  # UnicodeDecodeError among them, a ValueError
        raise read_error(path, exc) from None


def linked_groups(pairs):
    """A group number per pair: pairs sharing a sentence on either side, directly or not, share the number."""
    parent = list(range(len(pairs)))

    def root(index):
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_seen = {}
    for index, (english, spanish) in enumerate(pairs):
        for key in (("en", english), ("es", spanish)):
            other = first_seen.setdefault(key, index)
            parent[root(index)] = root(other)
    return [root(index) for index in range(len(pairs))]


@dataclass(frozen=True)
class PairSplits:
    train: list
    validation: list
    test: list


def split_pairs(pairs, *, validation_fraction=0.05, test_fraction=0.1, seed=0):
    """Deterministic train / validation / test splits of whole linked groups (see the module docstring).

    Each group draws one seeded uniform number that decides its split, so the fractions hold on average and
    a pair's split depends only on its group, not on the order of the file.
    """
    if not (0 < validation_fraction and 0 < test_fraction and validation_fraction + test_fraction < 1):
        raise ValueError(f"bad fractions: validation {validation_fraction}, test {test_fraction}")
    groups = linked_groups(pairs)
    # Groups are numbered by their first pair, so the draws follow the file's order of first appearance.
    draws = dict(zip(sorted(set(groups)), np.random.default_rng(seed).random(len(set(groups)))))
    splits = PairSplits([], [], [])
    for pair, group in zip(pairs, groups):
        draw = draws[group]
        if draw < test_fraction:
            splits.test.append(pair)
        elif draw < test_fraction + validation_fraction:
            splits.validation.append(pair)
        else:
            splits.train.append(pair)
    return splits


def oriented(pairs, direction):
    """`(source, target)` pairs for `direction` (`en-es` keeps the file's order, `es-en` swaps it)."""
    if direction not in DIRECTIONS:
        raise UserError(f"unknown direction {direction!r}; choose one of {', '.join(DIRECTIONS)}")
    return list(pairs) if direction == "en-es" else [(target, source) for source, target in pairs]


def run_pairs(splits, direction, train_pairs=None):
    """`(train, validation, test)`, `oriented` for `direction`. With `train_pairs` (`--train-pairs`, a quick try)
    only the first that many training pairs, and the first validation pairs in the same proportion: the whole
    validation split would take longer to score each epoch than a small training split takes to learn. The file
    runs from short sentences to long, so both parts cover the same lengths."""
    train = oriented(splits.train, direction)
    count = settings.count_within("--train-pairs", train_pairs, len(train), "pairs in the training split")
    validation = oriented(splits.validation, direction)
    if count is not None:
        train, validation = train[:count], validation[:math.ceil(len(validation) * count / len(train))]
    return train, validation, oriented(splits.test, direction)


def held_out_test(data_dir, recorded, export_path, seed):
    """The test pairs, oriented as the export at `export_path` translates (`recorded`: its `export.json`), after
    checking they are the split it was held out from (its `test_split`): scored on another file's split (an update,
    a reshuffle), the export would be scored on sentences it trained on. Exports made before it was recorded are
    not checked."""
    from keras_apps.data.fingerprint import fingerprint

    test = oriented(split_pairs(load_pairs(data_dir), seed=seed).test, recorded["direction"])
    if recorded.get("test_split", fingerprint(test)) != fingerprint(test):
        raise UserError(f"the test split of this {SPA_ENG.name} is not the one the export at {export_path} was held "
                        f"out from (the file changed since): give the data it was trained on")
    return test


def references_by_source(pairs):
    """`(sources, references)`: each distinct source once, in first-seen order, with all its translations."""
    references = defaultdict(list)
    for source, target in pairs:
        references[source].append(target)
    return list(references), list(references.values())


def scored_sentences(pairs, count=None):
    """`references_by_source(pairs)`, cut to its first `count` sources (all when None): a `--test-sentences`
    larger than there are is refused."""
    sources, references = references_by_source(pairs)
    count = settings.count_within("--test-sentences", count, len(sources), "distinct sentences to translate in "
                                  "the test split")
    return sources[:count], references[:count]
