"""Which export a run trained on from starts from (`--init-from`)."""

import json

import pytest

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.training.init_from import from_export


def _publish(root, version, run):
    folder = root / str(version)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")
    (folder / "model.keras").write_bytes(b"")
    (folder / "export.json").write_text(json.dumps({"task": "gpt", "version": version, "run": str(run)}))


def _started(run, start):
    """A run folder as `Run.open` leaves it for a run started from the export version `start`."""
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"task": "gpt", "init_from": str(start)}))


def test_a_resumed_run_goes_on_from_the_version_it_started_from_whoever_published_since(tmp_path):
    """`--init-from saved_models/gpt` with the default `--export-dir saved_models/gpt`: killed after publishing
    version 2, the rerun took version 2 (its own) as its start; after another run published version 3, it took that
    one. Either way it was refused as other settings and could not be finished by the command that started it."""
    exports = tmp_path / "exports"
    _publish(exports, 1, tmp_path / "base-run")
    _started(tmp_path / "tuning", exports / "1")
    _publish(exports, 2, tmp_path / "tuning")
    _publish(exports, 3, tmp_path / "another")
    assert from_export(exports, "gpt", run_dir=tmp_path / "tuning").path == exports / "1"
    assert from_export(exports, "gpt", run_dir=tmp_path / "new").path == exports / "3"
    assert from_export(exports, "gpt").path == exports / "3"
    assert from_export(exports / "2", "gpt", run_dir=tmp_path / "tuning").path == exports / "2"  # as named


def test_a_new_run_in_the_path_of_a_finished_one_moved_away_starts_from_the_latest(tmp_path):
    """The run folder's path once published version 2, but the run now in it is another: what it records (nothing
    yet), not its path, says which version is its own."""
    exports = tmp_path / "exports"
    _publish(exports, 1, tmp_path / "base-run")
    _publish(exports, 2, tmp_path / "tuning")  # that run's folder was moved away since
    assert from_export(exports, "gpt", run_dir=tmp_path / "tuning").path == exports / "2"


def test_a_compressed_copy_is_refused_naming_what_the_command_was_asked_to_do(tmp_path):
    exports = tmp_path / "exports"
    _publish(exports, 1, tmp_path / "compress-run")
    (exports / "1" / "export.json").write_text(json.dumps({"task": "gpt", "quantization": "int8"}))
    with pytest.raises(UserError, match=r"1 is a compressed copy \(int8\); train from the export it copies$"):
        from_export(exports, "gpt")  # --init-from's
    with pytest.raises(UserError, match=r"1 is a compressed copy \(int8\); evaluate the export it copies$"):
        from_export(exports, "gpt", use="evaluate")


def test_a_run_records_the_digest_of_the_weights_it_started_from(tmp_path):
    """A resumed run compares it to refuse an export whose weights were rewritten under it."""
    version = tmp_path / "exports" / "1"
    _publish(version.parent, 1, tmp_path / "base-run")
    recorded = from_export(version, "gpt").record()
    assert recorded == {"init_from": str(version), "init_from_weights": files.digest(version / "model.keras")[:16]}
    (version / "model.keras").write_bytes(b"other weights")
    assert from_export(version, "gpt").record()["init_from_weights"] != recorded["init_from_weights"]


def test_a_run_resumed_with_another_folder_of_the_same_name_takes_that_folders_latest(tmp_path):
    """The version recorded is the run's own only where it lies in the folder given, not in one named alike."""
    _publish(tmp_path / "a" / "exports", 1, tmp_path / "base-run")
    for version in (1, 2):
        _publish(tmp_path / "b" / "exports", version, tmp_path / "base-run")
    _started(tmp_path / "tuning", tmp_path / "a" / "exports" / "1")
    assert from_export(tmp_path / "b" / "exports", "gpt", run_dir=tmp_path / "tuning").path == (
        tmp_path / "b" / "exports" / "2")
