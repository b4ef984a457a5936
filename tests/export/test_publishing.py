"""Publishing an export version: the next free number at the moment it is complete, whoever else writes."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import keras
import tensorflow as tf

from keras_apps.export import saved_model
from keras_apps.export.saved_model import export_model, published_by, versions
from keras_apps.inference.serving import classifier_endpoint
from tests.conftest import REPOSITORY

SPEC = tf.TensorSpec([None, 3], tf.float32, name="x")


def tiny():
    inputs = keras.Input((3,), name="x")
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(inputs))


def export(model, root, run):
    return export_model(model, root, {"serving_default": classifier_endpoint(model, SPEC)},
                        metadata={"task": "tiny"}, run_id=run)


def test_a_number_taken_by_another_writer_meanwhile_is_skipped(tmp_path, monkeypatch):
    """Another process publishes the number this export chose between its look at the folder and its rename."""
    rename = os.rename

    def another_writer_first(source, target):
        if Path(target) == tmp_path / "1" and not Path(target).exists():
            Path(target).mkdir()
            (Path(target) / "export.json").write_text('{"run_id": "other"}')
        rename(source, target)

    monkeypatch.setattr(saved_model.os, "rename", another_writer_first)
    path = export(tiny(), tmp_path, "second")
    assert path == tmp_path / "2" and json.loads((path / "export.json").read_text())["version"] == 2
    assert [item.name for item in (tmp_path / "1").iterdir()] == ["export.json"]
    assert json.loads((tmp_path / "1" / "export.json").read_text()) == {"run_id": "other"}


def test_the_next_version_follows_the_highest_whatever_gaps_lie_below_it(tmp_path):
    for version in (2, 5):
        (tmp_path / str(version)).mkdir()
    assert export(tiny(), tmp_path, "run") == tmp_path / "6" and versions(tmp_path) == [2, 5, 6]


def test_two_processes_exporting_to_one_folder_each_publish_whole_versions(tmp_path):
    root = tmp_path / "exports"
    writers = [subprocess.Popen([sys.executable, "-m", "tests.export.export_repeatedly", str(root), name, "3"],
                                cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("a", "b")]
    outputs = [writer.communicate(timeout=300) for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], [err[-2000:] for _, err in outputs]
    assert versions(root) == [1, 2, 3, 4, 5, 6] and not list(root.glob(".export-*"))
    runs = sorted(json.loads((root / str(v) / "export.json").read_text())["run_id"] for v in versions(root))
    assert runs == ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]
    for version in versions(root):
        assert (root / str(version) / "saved_model.pb").is_file() and (root / str(version) / "model.keras").is_file()


def test_a_rerun_returns_the_version_its_run_published_and_clears_its_leftovers(tmp_path):
    model = tiny()
    run = "the-run"
    first = export(model, tmp_path / "exports", run)
    assert published_by(tmp_path / "exports", run) == first
    assert export(model, tmp_path / "exports", run) == first and versions(tmp_path / "exports") == [1]

    other = "another-run"
    leftover = tmp_path / "exports" / f".export-{saved_model._owner(other)}-killed"
    leftover.mkdir()  # what a killed attempt of the other run left half-written
    in_progress = tmp_path / "exports" / f".export-{saved_model._owner('a-third-run')}-writing"
    in_progress.mkdir()  # a third run's export, being written now
    assert export(model, tmp_path / "exports", other) == tmp_path / "exports" / "2"
    assert not leftover.exists() and in_progress.is_dir()


def test_a_published_version_is_readable_by_others_as_the_umask_allows(tmp_path):
    previous = os.umask(0o022)
    try:
        path = export_model(tiny(), tmp_path, {"serving_default": classifier_endpoint(tiny(), SPEC)},
                            files_to_copy=[write_vocabulary(tmp_path / "vocabulary.txt")], documents={"card.md": "x"})
    finally:
        os.umask(previous)
    modes = {str(item.relative_to(path)): stat.S_IMODE(item.stat().st_mode) for item in [path, *path.rglob("*")]}
    assert {"model.keras", "export.json", "card.md", "vocabulary.txt", "variables"} <= modes.keys()
    assert modes == {name: 0o755 if (path / name).is_dir() else 0o644 for name in modes}


def write_vocabulary(path):
    path.write_text("[PAD]\n")
    return path


def test_a_number_taken_by_a_file_or_a_link_to_nothing_is_skipped(tmp_path):
    model = tiny()
    export(model, tmp_path, "first")
    (tmp_path / "2").symlink_to("/nonexistent/2")
    (tmp_path / "3").write_text("not a version")
    assert export(model, tmp_path, "second") == tmp_path / "4" and versions(tmp_path) == [1, 4]
