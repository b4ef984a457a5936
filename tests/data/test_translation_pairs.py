"""Sentence pairs: read from the zip, normalized without losing Spanish, split so no sentence crosses splits."""

import unicodedata

import pytest

from keras_apps.data.fingerprint import fingerprint
from keras_apps.data.translation_pairs import (
    PairSplits, held_out_test, linked_groups, load_pairs, normalize, oriented, read_pairs, references_by_source,
    run_pairs, scored_sentences, split_pairs,
)
from keras_apps.errors import UserError
from tests.conftest import TINY_PAIRS, write_spa_eng_zip
from tests.data.refusals import refuse_opening


def test_normalization_keeps_accents_and_inverted_marks_and_composes_them():
    decomposed = unicodedata.normalize("NFD", "¿Dónde  está\tel  niño?")
    assert normalize(decomposed) == "¿Dónde está el niño?"
    assert normalize(decomposed) == unicodedata.normalize("NFC", "¿Dónde está el niño?")


def test_typographic_punctuation_is_written_as_tatoebas_sentences_write_it():
    assert normalize("I don’t know what “fine” means…") == "I don't know what \"fine\" means..."
    assert normalize("«No sé», dijo.") == "«No sé», dijo."  # Spanish quotation marks are Tatoeba's own


def test_malformed_lines_are_one_line_errors():
    assert read_pairs(["Go.\tVe.\n", "Hi.\tHola.\tCC-BY attribution\n"]) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    with pytest.raises(UserError, match="line 2"):
        read_pairs(["Go.\tVe.\n", "no tab here\n"])
    with pytest.raises(UserError, match="empty"):
        read_pairs([])


def test_load_pairs_reads_the_zip_and_names_a_bad_one(tmp_path):
    write_spa_eng_zip(tmp_path / "spa-eng.zip", TINY_PAIRS)
    assert load_pairs(tmp_path) == TINY_PAIRS
    write_spa_eng_zip(tmp_path / "spa-eng.zip", TINY_PAIRS, member="other.txt")
    with pytest.raises(UserError, match="has no spa-eng/spa.txt"):
        load_pairs(tmp_path)
    (tmp_path / "spa-eng.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UserError, match="corrupt"):
        load_pairs(tmp_path)


def test_an_unreadable_zip_is_not_called_corrupt(tmp_path, monkeypatch):
    write_spa_eng_zip(tmp_path / "spa-eng.zip", TINY_PAIRS)
    refuse_opening(monkeypatch, tmp_path / "spa-eng.zip")
    with pytest.raises(UserError) as raised:
        load_pairs(tmp_path)
    assert str(raised.value) == f"cannot read {tmp_path / 'spa-eng.zip'}: Permission denied"


def test_pairs_linked_through_a_shared_sentence_form_one_group():
    groups = linked_groups(TINY_PAIRS)
    fine, encuentro, well = (TINY_PAIRS.index(pair) for pair in [
        ("I'm fine.", "Estoy bien."), ("I'm fine.", "Me encuentro bien."), ("I am well.", "Estoy bien.")])
    assert groups[fine] == groups[encuentro] == groups[well]  # "I am well." shares only the Spanish
    assert len(set(groups)) == len(TINY_PAIRS) - 2


def _sentences(pairs, side):
    return {pair[side] for pair in pairs}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_sentence_is_in_two_splits_and_the_split_is_deterministic(seed):
    pairs = TINY_PAIRS * 1 + [(f"Sentence {i}.", f"Frase {i}.") for i in range(300)]
    splits = split_pairs(pairs, validation_fraction=0.2, test_fraction=0.2, seed=seed)
    assert split_pairs(pairs, validation_fraction=0.2, test_fraction=0.2, seed=seed) == splits
    assert sorted(splits.train + splits.validation + splits.test) == sorted(pairs)
    for side in (0, 1):
        train, validation, test = (_sentences(part, side) for part in (splits.train, splits.validation, splits.test))
        assert not train & validation and not train & test and not validation & test
    assert 30 < len(splits.test) < 100 and 30 < len(splits.validation) < 100


def test_the_seed_decides_the_split():
    pairs = [(f"Sentence {i}.", f"Frase {i}.") for i in range(300)]
    assert split_pairs(pairs, seed=0).test != split_pairs(pairs, seed=1).test


def test_an_export_is_scored_only_on_the_test_split_it_was_held_out_from(tmp_path):
    write_spa_eng_zip(tmp_path / "spa-eng.zip", TINY_PAIRS + [(f"Sentence {i}.", f"Frase {i}.") for i in range(100)])
    test = oriented(split_pairs(load_pairs(tmp_path), seed=0).test, "es-en")
    assert held_out_test(tmp_path, {"direction": "es-en", "test_split": fingerprint(test)}, "export", 0) == test
    assert held_out_test(tmp_path, {"direction": "es-en"}, "export", 0) == test  # made before it was recorded
    with pytest.raises(UserError, match="not the one the export at export was held out from"):
        held_out_test(tmp_path, {"direction": "es-en", "test_split": fingerprint(test[1:])}, "export", 0)


def test_directions_and_references():
    assert oriented([("Hi.", "Hola.")], "es-en") == [("Hola.", "Hi.")]
    with pytest.raises(UserError, match="direction"):
        oriented(TINY_PAIRS, "en-fr")
    sources, references = references_by_source(TINY_PAIRS)
    assert len(sources) == len(TINY_PAIRS) - 1
    assert references[sources.index("I'm fine.")] == ["Estoy bien.", "Me encuentro bien."]


def test_the_scored_sentences_are_the_first_distinct_sources_and_never_more_than_there_are():
    sources, references = references_by_source(TINY_PAIRS)
    assert scored_sentences(TINY_PAIRS) == (sources, references)
    assert scored_sentences(TINY_PAIRS, 2) == (sources[:2], references[:2])
    assert scored_sentences(TINY_PAIRS, len(sources)) == (sources, references)
    with pytest.raises(UserError, match=f"^--test-sentences {len(sources) + 1}: there are only {len(sources)} "
                                        f"distinct sentences to translate in the test split$"):
        scored_sentences(TINY_PAIRS, len(sources) + 1)


def _numbered(count, kind):
    return [(f"{kind} {index}", f"{kind} es {index}") for index in range(count)]


def test_a_quick_try_validates_on_the_first_pairs_in_proportion_to_those_it_trains_on():
    splits = PairSplits(_numbered(100, "train"), _numbered(21, "validation"), _numbered(7, "test"))
    train, validation, test = run_pairs(splits, "es-en", train_pairs=25)
    assert train == oriented(splits.train[:25], "es-en") and test == oriented(splits.test, "es-en")
    assert validation == oriented(splits.validation[:6], "es-en")  # 21 x 25 / 100, rounded up
    assert run_pairs(splits, "en-es") == (splits.train, splits.validation, splits.test)
    with pytest.raises(UserError, match="--train-pairs 101: there are only 100 pairs in the training split"):
        run_pairs(splits, "en-es", train_pairs=101)


@pytest.mark.real_data
def test_the_real_pairs_split_without_shared_sentences(real_spa_eng_dir):
    pairs = load_pairs(real_spa_eng_dir)
    assert len(pairs) == 118_964 and pairs[0] == ("Go.", "Ve.")
    splits = split_pairs(pairs)
    assert isinstance(splits, PairSplits)
    assert 0.08 < len(splits.test) / len(pairs) < 0.12 and 0.04 < len(splits.validation) / len(pairs) < 0.06
    for side in (0, 1):
        assert not _sentences(splits.train, side) & _sentences(splits.test, side)
        assert not _sentences(splits.validation, side) & _sentences(splits.test, side)


def test_a_pair_linking_two_groups_joins_them_whole():
    """The third pair shares its English with the first and its Spanish with the second: all three are one group."""
    groups = linked_groups([("A.", "X."), ("B.", "Y."), ("A.", "Y."), ("C.", "Z.")])
    assert groups[0] == groups[1] == groups[2] != groups[3]


@pytest.mark.parametrize("line", ["Go.\t\n", "Go.\t  \n", "\tVe.\n"])
def test_a_pair_missing_a_side_is_refused(line):
    with pytest.raises(UserError, match="line 2 of the pairs is not 'English<TAB>Spanish'"):
        read_pairs(["Hi.\tHola.\n", line])


def test_a_pairs_file_that_is_not_utf8_is_corrupt_not_read_with_replacements(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "spa-eng.zip", "w") as archive:
        archive.writestr("spa-eng/spa.txt", "Go.\tVe.\nWhere?\t¿Dónde?\n".encode("latin-1"))
    with pytest.raises(UserError, match="spa-eng.zip is corrupt or truncated \\(.*can't decode byte"):
        load_pairs(tmp_path)


def test_an_export_is_scored_on_the_test_split_of_its_own_seed(tmp_path):
    """An export made before the split was recorded cannot be checked: the seed alone must find its test split."""
    write_spa_eng_zip(tmp_path / "spa-eng.zip", [(f"Sentence {i}.", f"Frase {i}.") for i in range(100)])
    test = oriented(split_pairs(load_pairs(tmp_path), seed=1).test, "en-es")
    assert test != oriented(split_pairs(load_pairs(tmp_path), seed=0).test, "en-es")
    assert held_out_test(tmp_path, {"direction": "en-es"}, "export", 1) == test
    assert held_out_test(tmp_path, {"direction": "en-es", "test_split": fingerprint(test)}, "export", 1) == test


@pytest.mark.parametrize("validation, test", [(0.5, 0.5), (0, 0.1), (0.1, 0), (0.6, 0.5)])
def test_fractions_leaving_no_training_split_or_no_held_out_one_are_refused(validation, test):
    with pytest.raises(ValueError, match="bad fractions"):
        split_pairs(TINY_PAIRS, validation_fraction=validation, test_fraction=test)
