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
