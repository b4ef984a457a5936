import json

import pytest

from keras_apps import files


def test_write_json_replaces_content(tmp_path):
    path = tmp_path / "value.json"
    files.write_json(path, {"a": 1})
    files.write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["value.json"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with files.atomic_path(path) as temporary:
            temporary.write_text("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_directory_target_is_never_replaced(tmp_path):
    target = tmp_path / "1"
    target.mkdir()
    (target / "model").write_text("good")
    with pytest.raises(FileExistsError):
        with files.atomic_path(target, directory=True) as temporary:
            (temporary / "model").write_text("new")
    assert (target / "model").read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["1"]
