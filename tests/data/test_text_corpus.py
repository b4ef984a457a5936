"""Reading a text corpus: every bad file is one clear line, and the split is contiguous."""

import pytest

from keras_apps.data import text_corpus
from keras_apps.errors import UserError


def test_a_utf8_file_is_read_whole(tmp_path):
    path = tmp_path / "poems.txt"
    path.write_text("Ça va ?\n¡Olé!\n", encoding="utf-8")
    assert text_corpus.read_corpus(path) == "Ça va ?\n¡Olé!\n"
    assert text_corpus.load_corpus(text_file=path) == "Ça va ?\n¡Olé!\n"


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b" \n\t\n", "is empty"),
    (b"caf\xe9 au lait", r"is not UTF-8 text \(invalid byte at offset 3\)"),
])
def test_empty_and_non_utf8_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        text_corpus.read_corpus(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match="nowhere.txt does not exist"):
        text_corpus.read_corpus(tmp_path / "nowhere.txt")


def test_a_truncated_tiny_shakespeare_is_refused(tmp_path):
    (tmp_path / "tinyshakespeare.txt").write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    with pytest.raises(UserError, match="not Tiny Shakespeare's 1,115,394: truncated"):
        text_corpus.load_corpus(data_dir=tmp_path)


def test_the_split_is_head_and_tail():
    text = "".join(chr(ord("a") + index % 26) for index in range(1000))
    train, validation = text_corpus.split_corpus(text, 0.1)
    assert train + validation == text and len(validation) == 100


@pytest.mark.real_data
def test_the_real_tiny_shakespeare(real_shakespeare_dir):
    text = text_corpus.load_corpus(data_dir=real_shakespeare_dir)
    assert text.startswith("First Citizen:") and len(set(text)) == 65
    train, validation = text_corpus.split_corpus(text)
    assert (len(train), len(validation)) == (1_003_854, 111_540)


def test_a_tuned_policy_that_recorded_no_text_is_not_measured_on_another():
    """Policies made before they recorded their text (the SFT model's reviews) were measured on Tiny Shakespeare."""
    with pytest.raises(UserError, match="is a policy tuned by dpo before policies recorded their text"):
        text_corpus.check_trained_on({"task": "gpt", "tuned_by": "dpo"}, None, "Tiny text.",
                                     "saved_models/rlhf-dpo/1")
    text_corpus.check_trained_on({"task": "gpt"}, None, "Tiny text.", "saved_models/gpt/1")  # an old GPT: unchecked


def test_only_a_model_of_the_review_corpus_this_suite_wrote_learned_reviews(tmp_path):
    """A user's text of the same name is no review corpus; an export made before records said so is served as it
    was, its copies and policies too."""
    from keras_apps.data.imdb import REVIEW_CORPUS

    corpus, alike = tmp_path / "cleaned-0123" / REVIEW_CORPUS, tmp_path / "poems" / REVIEW_CORPUS
    assert text_corpus.learned_reviews(text_corpus.text_record(corpus, "A review.\n"))
    assert not text_corpus.learned_reviews(text_corpus.text_record(alike, "A poem.\n"))
    assert not text_corpus.learned_reviews(text_corpus.text_record(None, "Tiny text."))  # Tiny Shakespeare
    assert not text_corpus.learned_reviews({"file": REVIEW_CORPUS, "fingerprint": "0"})  # recorded before
    assert not text_corpus.learned_reviews(None)


@pytest.mark.parametrize("length", [text_corpus.TINY_SHAKESPEARE_CHARACTERS - 1,
                                    text_corpus.TINY_SHAKESPEARE_CHARACTERS + 1])
def test_tiny_shakespeare_of_any_other_length_is_refused(tmp_path, length):
    (tmp_path / "tinyshakespeare.txt").write_text("a" * length)
    with pytest.raises(UserError, match=f"has {length:,} characters, not Tiny Shakespeare's"):
        text_corpus.load_corpus(data_dir=tmp_path)


def test_an_export_is_measured_only_on_the_text_it_learned():
    """Any change, however far into the text, is another text: its validation loss is not the export's."""
    text = "First Citizen:\n" * 1000
    recorded = {"task": "gpt", "text": text_corpus.text_record(None, text)}
    text_corpus.check_trained_on(recorded, None, text, "saved_models/gpt/1")
    for other in ["Another text entirely.", text[:-1] + "?"]:
        with pytest.raises(UserError, match="Tiny Shakespeare is not the text the export at saved_models/gpt/1 "
                                            "learned \\(tinyshakespeare.txt\\)"):
            text_corpus.check_trained_on(recorded, None, other, "saved_models/gpt/1")


def test_an_export_of_the_review_corpus_is_measured_on_it_by_default_others_on_tiny_shakespeare(tmp_path, monkeypatch):
    from keras_apps.data import imdb

    corpus = tmp_path / "cleaned-0123" / imdb.REVIEW_CORPUS
    corpus.parent.mkdir()
    corpus.write_text("A review.\n")
    monkeypatch.setattr(imdb, "review_corpus", lambda data_dir=None, **options: corpus)
    (tmp_path / "tinyshakespeare.txt").write_text("a" * text_corpus.TINY_SHAKESPEARE_CHARACTERS)
    of_reviews = {"text": text_corpus.text_record(corpus, "A review.\n")}
    assert text_corpus.learned_text(of_reviews, data_dir=tmp_path) == (corpus, "A review.\n")
    of_shakespeare = {"text": text_corpus.text_record(None, "a" * text_corpus.TINY_SHAKESPEARE_CHARACTERS)}
    assert text_corpus.learned_text(of_shakespeare, data_dir=tmp_path)[0] is None
    assert text_corpus.learned_text(of_reviews, text_file=tmp_path / "tinyshakespeare.txt", data_dir=tmp_path)[0] \
        == tmp_path / "tinyshakespeare.txt"


@pytest.mark.parametrize("fraction", [0, 1, -0.1])
def test_a_split_fraction_outside_zero_and_one_is_refused(fraction):
    with pytest.raises(ValueError, match="validation_fraction must be in"):
        text_corpus.split_corpus("Some text.", fraction)
