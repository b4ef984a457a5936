import errno
import os
from pathlib import Path

import pytest

from keras_apps.data.locate import DATA_DIR_ENV, RemoteFile, candidate_directories, locate
from keras_apps.errors import UserError

REMOTE = RemoteFile("dataset.bin", "https://example.invalid/dataset.bin")


def no_network(remote, directory):
    raise OSError("network unreachable")


def test_data_dir_flag_comes_before_the_environment(tmp_path, monkeypatch):
    flag, env = tmp_path / "flag", tmp_path / "env"
    for directory in (flag, env):
        directory.mkdir()
        (directory / REMOTE.name).write_text(directory.name)
    monkeypatch.setenv(DATA_DIR_ENV, str(env))
    assert locate(REMOTE, flag, download=no_network) == flag / REMOTE.name
    assert locate(REMOTE, None, download=no_network) == env / REMOTE.name


def test_keras_cache_is_the_last_resort(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert candidate_directories() == [Path("~/.keras/datasets").expanduser()]


def test_missing_file_is_downloaded_into_the_first_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    calls = []

    def fake_download(remote, directory):
        calls.append(directory)
        (directory / remote.name).write_text("fetched")
        return directory / remote.name

    assert locate(REMOTE, tmp_path, download=fake_download).read_text() == "fetched"
    assert calls == [tmp_path]


def test_missing_file_offline_names_file_directories_and_flag(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    with pytest.raises(UserError) as error:
        locate(REMOTE, tmp_path, download=no_network)
    message = str(error.value)
    assert "dataset.bin" in message and str(tmp_path) in message and str(tmp_path / "env") in message
    assert "--data-dir" in message and "network unreachable" in message
    assert "\n" not in message


def test_data_dir_that_is_not_a_directory(tmp_path):
    with pytest.raises(UserError, match="not a directory"):
        locate(REMOTE, tmp_path / "nope", download=no_network)


@pytest.mark.parametrize("refused", ["flag/dataset.bin", "flag"])
def test_a_folder_that_cannot_be_searched_is_one_line(tmp_path, monkeypatch, refused):
    (tmp_path / "flag").mkdir()
    real_stat = Path.stat

    def stat_refused(path, **kwargs):  # as for a folder on the way without search (x) permission; root has it
        if path == tmp_path / refused:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_stat(path, **kwargs)

    monkeypatch.setattr(Path, "stat", stat_refused)
    with pytest.raises(UserError) as raised:
        locate(REMOTE, tmp_path / "flag", download=no_network)
    assert str(raised.value) == f"cannot look for {tmp_path / refused}: Permission denied"


def test_every_dataset_download_is_checked_against_its_sha256():
    """`get_file` checks a download only against a hash it is given; a cut-off download was otherwise kept."""
    from keras_apps.data import imdb, mnist, spoken_digits, text_corpus, translation_pairs

    remotes = [imdb.IMDB_FILE, mnist.MNIST_FILE, spoken_digits.FSDD_FILE, text_corpus.TINY_SHAKESPEARE,
               translation_pairs.SPA_ENG]
    assert [remote.name for remote in remotes if not (remote.sha256 and len(remote.sha256) == 64)] == []


def test_a_download_failing_its_hash_check_is_one_line(tmp_path, monkeypatch):
    """`get_file` raises a bare `ValueError` for a download whose sha256 does not match (cut off, tampered)."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)

    def corrupt_download(remote, directory):
        raise ValueError("Incomplete or corrupted file detected. The sha256 file hash does not match the provided "
                         "value of 0123.")

    with pytest.raises(UserError, match="download from .* failed \\(Incomplete or corrupted file detected"):
        locate(REMOTE, tmp_path, download=corrupt_download)


def test_a_data_dir_given_with_a_tilde_is_searched_in_the_home_folder(tmp_path, monkeypatch):
    """`--data-dir=~/data` reaches the program unexpanded (the shell expands a `~` only at a word's start)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / REMOTE.name).write_text("mine")
    assert locate(REMOTE, "~/data", download=no_network) == tmp_path / "data" / REMOTE.name


def test_a_folder_named_like_the_file_is_not_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    (tmp_path / "flag" / REMOTE.name).mkdir(parents=True)
    (tmp_path / "home" / ".keras" / "datasets").mkdir(parents=True)
    (tmp_path / "home" / ".keras" / "datasets" / REMOTE.name).write_text("cached")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert locate(REMOTE, tmp_path / "flag", download=no_network) == (
        tmp_path / "home" / ".keras" / "datasets" / REMOTE.name)
