import dataclasses

import numpy as np
import pytest

from keras_apps.data import imdb
from keras_apps.errors import UserError
from tests.conftest import write_imdb_archive

TINY = {"train": 4, "test": 2, "unsup": 3}


TINY_REVIEWS = {
    "train/neg/0_1.txt": "Dull.<br /><br />Avoid it.",
    "train/neg/10_2.txt": "Worse than dull.",
    "train/neg/2_3.txt": "Not good.",
    "train/pos/0_9.txt": "Wonderful film, señor!",
    "test/neg/0_4.txt": "Meh.",
    "test/pos/0_8.txt": "Great.",
    "train/unsup/0_0.txt": "An unlabeled review.",
    "train/unsup/1_0.txt": "Another one.",
    "train/unsup/2_0.txt": "And a third.",
}


@pytest.fixture
def tiny_imdb(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    write_imdb_archive(tmp_path / "aclImdb_v1.tar.gz", TINY_REVIEWS)
    return tmp_path


def test_labeled_splits_skip_the_unlabeled_reviews(tiny_imdb):
    data = imdb.load(tiny_imdb, sizes=TINY)
    assert len(data.train) == 4 and len(data.test) == 2 and data.unlabeled == []
    # Negatives first, each class in the order of the numeric review ids (2 before 10).
    assert data.train.texts == ["Dull. Avoid it.", "Not good.", "Worse than dull.", "Wonderful film, señor!"]
    assert data.train.labels.tolist() == [0, 0, 0, 1] and data.train.labels.dtype == np.int32


def test_star_ratings_come_from_the_file_names_and_follow_their_reviews(tiny_imdb):
    data = imdb.load(tiny_imdb, sizes=TINY)
    assert data.train.ratings.tolist() == [1, 3, 2, 9] and data.test.ratings.tolist() == [4, 8]
    taken = data.train.take(3)
    assert dict(zip(taken.texts, taken.ratings.tolist())) == {
        text: rating for text, rating in zip(data.train.texts, [1, 3, 2, 9]) if text in taken.texts}


def test_a_review_file_without_a_rating_is_named(tmp_path):
    folder = tmp_path / "aclImdb" / "train"
    for name in imdb.CLASS_NAMES:
        (folder / name).mkdir(parents=True)
    (folder / "pos" / "7.txt").write_text("No rating in the name.")
    with pytest.raises(UserError, match="7.txt: expected a file named <id>_<rating>.txt"):
        imdb.read_labeled(tmp_path / "aclImdb", "train")


def test_the_review_corpus_holds_training_and_unlabeled_reviews_one_per_line_and_no_test_review(tiny_imdb):
    path = imdb.review_corpus(tiny_imdb, sizes=TINY)
    lines = path.read_text(encoding="utf-8").splitlines()
    data = imdb.load(tiny_imdb, unlabeled=True, sizes=TINY)
    assert sorted(lines) == sorted(data.train.texts + data.unlabeled)
    assert not set(lines) & set(data.test.texts)
    assert imdb.is_review_corpus(path) and not imdb.is_review_corpus(tiny_imdb / imdb.REVIEW_CORPUS)
    path.write_text("kept\n")  # made once: a second call reads the same file
    assert imdb.review_corpus(tiny_imdb, sizes=TINY) == path and path.read_text() == "kept\n"


def test_a_text_is_written_in_a_graph_as_the_review_corpus_writes_a_review():
    """What a GPT of the corpus reads a prompt as: cleaned, on one line."""
    import tensorflow as tf

    raw = " Two\nlines, &quot;one&quot;<br /><br />review\u2019s end.\n"
    (line,) = imdb.corpus_lines(tf.constant([raw])).numpy()
    assert line.decode("utf-8") == 'Two lines, "one" review\'s end.' == imdb.clean(raw).replace("\n", " ")


def test_unlabeled_reviews_on_request(tiny_imdb):
    assert imdb.load(tiny_imdb, unlabeled=True, sizes=TINY).unlabeled[2] == "And a third."


def test_the_archive_is_extracted_into_the_cache_once(tiny_imdb):
    imdb.load(tiny_imdb, sizes=TINY)
    (folder,) = (tiny_imdb / "cache").glob("aclImdb_v1-*")  # named after the archive's content
    extracted = folder / "aclImdb" / "train" / "pos" / "0_9.txt"
    extracted.write_text("Edited after extraction.")
    assert imdb.load(tiny_imdb, sizes=TINY).train.texts[-1] == "Edited after extraction."


def test_incomplete_dataset_is_named_and_so_is_the_archive_it_came_from(tiny_imdb):
    """Extracting an incomplete archive again gives the same folder: the advice to do so cannot be the only one."""
    with pytest.raises(UserError, match="train has 4 reviews, expected 25000; delete .* so that it is extracted "
                                        "again; if this comes back, aclImdb_v1.tar.gz itself is incomplete"):
        imdb.load(tiny_imdb)


def test_a_changed_cleaning_writes_a_new_review_corpus(tiny_imdb, monkeypatch):
    """The corpus is cached beside the archive's extraction, which outlives the code that cleaned it."""
    from keras_apps.text import normalize

    old = imdb.review_corpus(tiny_imdb, sizes=TINY)
    monkeypatch.setattr(normalize, "_FOLDS", normalize._FOLDS + [("ñ", "n")])
    new = imdb.review_corpus(tiny_imdb, sizes=TINY)
    assert new != old and "Wonderful film, senor!" in new.read_text(encoding="utf-8").splitlines()
    assert new.name == old.name == imdb.REVIEW_CORPUS  # what an SFT export's metadata records


@pytest.mark.parametrize("text, cleaned", [("a<br />b", "a b"), ("a.<br /><br />b<BR>c", "a. b c"), ("  x  ", "x"),
                                           ("I didn’t like “Cats”…\u00a0", "I didn't like \"Cats\"...")])
def test_clean_replaces_html_line_breaks_and_typographic_punctuation(text, cleaned):
    assert imdb.clean(text) == cleaned


def test_damaged_review_files_are_reported(tmp_path):
    folder = tmp_path / "aclImdb" / "train"
    for name in imdb.CLASS_NAMES:
        (folder / name).mkdir(parents=True)
    (folder / "neg" / "0_1.txt").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(UserError, match="not UTF-8"):
        imdb.read_labeled(tmp_path / "aclImdb", "train")


@pytest.mark.real_data
def test_the_real_archive_has_every_review(real_imdb_dir):
    """Extracted into the cache every real-data test shares (extraction itself is tested on a written archive)."""
    data = imdb.load(real_imdb_dir, unlabeled=True)
    assert len(data.train) == 25_000 and len(data.test) == 25_000 and len(data.unlabeled) == 50_000
    assert np.bincount(data.train.labels).tolist() == [12_500, 12_500]
    assert np.bincount(data.test.labels).tolist() == [12_500, 12_500]
    assert set(data.train.ratings[data.train.labels == 0]) == {1, 2, 3, 4}
    assert set(data.test.ratings[data.test.labels == 1]) == {7, 8, 9, 10}
    assert not any("<br" in text for text in data.train.texts[:1000])


def _labeled(count):
    labels = np.array([0] * (count // 2) + [1] * (count - count // 2), np.int32)  # ordered by class, like the files
    return imdb.LabeledTexts([f"review {index}" for index in range(count)], labels)


def test_split_holds_out_a_stratified_random_fraction():
    rest, held_out = _labeled(100).split(0.2, seed=3)
    assert (len(rest), len(held_out)) == (80, 20)
    assert held_out.labels.sum() == 10 and rest.labels.sum() == 40
    assert not set(rest.texts) & set(held_out.texts)
    for part in (rest, held_out):  # every text keeps its own label
        assert all((int(text.split()[1]) >= 50) == bool(label) for text, label in zip(part.texts, part.labels))
    again, _ = _labeled(100).split(0.2, seed=3)
    assert again.texts == rest.texts
    _, other_seeds = _labeled(100).split(0.2, seed=4)  # --seed draws another validation split
    assert set(other_seeds.texts) != set(held_out.texts)


def test_take_draws_both_classes_and_the_same_ones_every_time():
    taken = _labeled(100).take(10)
    assert len(taken) == 10 and 0 < taken.labels.sum() < 10
    assert _labeled(100).take(10).texts == taken.texts
    assert _labeled(100).take(None).texts == _labeled(100).texts


def test_take_never_cuts_a_larger_count_to_fit():
    assert _labeled(10).take(10).texts == _labeled(10).texts
    with pytest.raises(ValueError, match="cannot take 11 of 10 texts"):
        _labeled(10).take(11)


def test_a_count_beyond_a_split_is_refused_by_its_flag(tiny_imdb, monkeypatch):
    monkeypatch.setattr(imdb, "SIZES", TINY)
    data = imdb.load(tiny_imdb)
    assert len(data.take("test", 2, "--test-examples")) == 2 and len(data.take("train", None, "--prompts")) == 4
    with pytest.raises(UserError, match="^--prompts 5: there are only 4 reviews in IMDB's training split$"):
        data.take("train", 5, "--prompts")
    splits = dict(data_dir=tiny_imdb, validation_fraction=0.5, seed=0)
    assert len(imdb.run_splits(**splits, train_examples=4, test_examples=2).test) == 2
    for counts, refusal in [(dict(train_examples=5), "--train-examples 5: there are only 4 reviews in IMDB's "
                             "training split"),
                            (dict(test_examples=3, test_flag="--test-reviews"), "--test-reviews 3: there are only 2 "
                             "reviews in IMDB's test split"),
                            (dict(unlabeled=True, unlabeled_examples=4), "--unlabeled-examples 4: there are only 3 "
                             "unlabeled reviews in IMDB")]:
        with pytest.raises(UserError, match=f"^{refusal}$"):
            imdb.run_splits(**splits, **counts)


def test_the_runs_fingerprint_counts_every_review_label_and_rating_it_learns_from_or_validates_on():
    """Validation labels (imdb, gpt_classifier) and ratings (the reward model) that changed alone were resumed on
    silently; the test reviews are not what a run learns from."""
    texts = [f"review {index}" for index in range(4)]
    split = imdb.LabeledTexts(texts, np.array([0, 1, 0, 1]), np.array([1, 8, 2, 9]))
    splits = imdb.Splits(split, split, split, ["unlabeled"])
    changed = {
        "validation labels": dataclasses.replace(splits, validation=dataclasses.replace(split, labels=np.array(
            [1, 1, 0, 1]))),
        "train ratings": dataclasses.replace(splits, train=dataclasses.replace(split, ratings=np.array([1, 8, 2, 10]))),
        "validation texts": dataclasses.replace(splits, validation=dataclasses.replace(split, texts=texts[::-1])),
        "unlabeled": dataclasses.replace(splits, unlabeled=["other"]),
    }
    for what, other in changed.items():
        assert other.fingerprint() != splits.fingerprint(), what
    assert dataclasses.replace(splits, test=split._select([0])).fingerprint() == splits.fingerprint()


def test_the_validation_reviews_are_held_out_of_the_training_reviews_never_the_test_ones(tiny_imdb, monkeypatch):
    """A validation split drawn from the test split would pick the best epoch on the reviews it is scored on."""
    monkeypatch.setattr(imdb, "SIZES", TINY)
    data = imdb.load(tiny_imdb)
    splits = imdb.run_splits(tiny_imdb, validation_fraction=0.25, seed=0)
    assert (len(splits.train), len(splits.validation)) == (3, 1)  # 0.25 of 3 negatives, of 1 positive: 1 and 0
    assert sorted(splits.train.texts + splits.validation.texts) == sorted(data.train.texts)
    assert not set(splits.train.texts) & set(splits.validation.texts)
    assert splits.test.texts == data.test.texts
    for part, whole in [(splits.train, data.train), (splits.validation, data.train), (splits.test, data.test)]:
        truth = {text: (label, rating) for text, label, rating in zip(whole.texts, whole.labels, whole.ratings)}
        assert [truth[text] for text in part.texts] == list(zip(part.labels.tolist(), part.ratings.tolist()))


def test_an_empty_review_file_is_damage_not_a_review(tmp_path):
    folder = tmp_path / "aclImdb" / "train"
    for name in imdb.CLASS_NAMES:
        (folder / name).mkdir(parents=True)
    (folder / "pos" / "0_9.txt").write_text("Fine.")
    (folder / "neg" / "0_1.txt").write_text("<br /><br /> \n")  # nothing left once cleaned
    with pytest.raises(UserError, match="0_1.txt is empty; the extracted dataset is damaged"):
        imdb.read_labeled(tmp_path / "aclImdb", "train")


def test_the_review_corpus_is_written_in_the_same_order_every_time(tiny_imdb):
    """Written again (another machine, a new cache), it must be the same text: an export records its fingerprint."""
    path = imdb.review_corpus(tiny_imdb, sizes=TINY)
    first = path.read_text(encoding="utf-8")
    path.unlink()
    assert imdb.review_corpus(tiny_imdb, sizes=TINY).read_text(encoding="utf-8") == first


def test_a_rating_of_ten_is_read_whole(tmp_path):
    folder = tmp_path / "aclImdb" / "test"
    for name in imdb.CLASS_NAMES:
        (folder / name).mkdir(parents=True)
    (folder / "neg" / "12_1.txt").write_text("Awful.")
    (folder / "pos" / "12_10.txt").write_text("Perfect.")
    assert imdb.read_labeled(tmp_path / "aclImdb", "test").ratings.tolist() == [1, 10]


@pytest.mark.parametrize("sizes, split", [({**TINY, "train": 3}, "train"), ({**TINY, "unsup": 4}, "unsup")])
def test_a_split_of_another_size_than_expected_is_refused(tiny_imdb, sizes, split):
    """More reviews than the dataset has is no complete dataset either (a test review copied into training)."""
    with pytest.raises(UserError, match=f"{split} has {TINY[split]} reviews, expected {sizes[split]}"):
        imdb.load(tiny_imdb, unlabeled=True, sizes=sizes)


def test_unlabeled_examples_takes_that_many_unlabeled_reviews(tiny_imdb, monkeypatch):
    monkeypatch.setattr(imdb, "SIZES", TINY)
    splits = dict(data_dir=tiny_imdb, validation_fraction=0.5, seed=0, unlabeled=True)
    assert imdb.run_splits(**splits, unlabeled_examples=2).sizes()["unlabeled_examples"] == 2
    assert len(imdb.run_splits(**splits).unlabeled) == 3
    assert imdb.run_splits(tiny_imdb, validation_fraction=0.5, seed=0).unlabeled == []


def test_a_text_has_words_where_its_cleaning_leaves_a_letter_or_a_digit():
    assert imdb.has_words("Café!") and imdb.has_words("10/10") and imdb.has_words("&lt;great&gt;")
    for wordless in ("", "<br /><br />", "&nbsp;&#8230;", "!!! ?", "\x01\x7f", "\u200b\u200e\u2063"):
        assert not imdb.has_words(wordless), repr(wordless)
