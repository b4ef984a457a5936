"""Which export a run trained on from starts from (`--init-from`)."""

import json

from keras_apps.training.init_from import from_export


def _publish(root, version, run):
    folder = root / str(version)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")
    (folder / "model.keras").write_bytes(b"")
    (folder / "export.json").write_text(json.dumps({"task": "gpt", "version": version, "run": str(run)}))


def test_a_run_resumed_after_exporting_where_it_started_from_starts_from_the_same_version(tmp_path):
    """`--init-from saved_models/gpt` with the default `--export-dir saved_models/gpt`: killed after publishing
    version 2, the rerun took version 2 (its own) as its start and was refused as other settings; it could not
    be finished by the command that started it."""
    exports = tmp_path / "exports"
    _publish(exports, 1, tmp_path / "base-run")
    _publish(exports, 2, tmp_path / "tuning")
    assert from_export(exports, "gpt", run_dir=tmp_path / "tuning").path == exports / "1"
    assert from_export(exports, "gpt", run_dir=tmp_path / "another").path == exports / "2"
    assert from_export(exports, "gpt").path == exports / "2"
    assert from_export(exports / "2", "gpt", run_dir=tmp_path / "tuning").path == exports / "2"  # as named
