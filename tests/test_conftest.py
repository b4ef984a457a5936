"""The real-data fixtures: a dataset missing from a set `KERAS_APPS_DATA` fails the run instead of skipping."""

import re

import pytest

from tests.conftest import _real_data_holding


def test_a_set_data_folder_missing_the_file_fails_naming_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_DATA", str(tmp_path))
    reason = re.escape(f"KERAS_APPS_DATA={tmp_path} has no readable mnist.npz")
    with pytest.raises(pytest.fail.Exception, match=reason):
        _real_data_holding("mnist.npz")
    (tmp_path / "mnist.npz").mkdir()  # there, but not a readable file
    with pytest.raises(pytest.fail.Exception, match="mnist.npz"):
        _real_data_holding("mnist.npz")


def test_an_unset_data_folder_skips(monkeypatch):
    monkeypatch.delenv("KERAS_APPS_DATA", raising=False)
    with pytest.raises(pytest.skip.Exception, match="set KERAS_APPS_DATA"):
        _real_data_holding("mnist.npz")


def test_a_data_folder_holding_the_file_is_returned(tmp_path, monkeypatch):
    (tmp_path / "mnist.npz").write_bytes(b"data")
    monkeypatch.setenv("KERAS_APPS_DATA", str(tmp_path))
    assert _real_data_holding("mnist.npz") == tmp_path
