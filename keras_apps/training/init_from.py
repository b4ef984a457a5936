"""Training that goes on from an export (`--init-from`): its Keras model trains further, whole or through LoRA
adapters (`keras_apps.training.lora`), and what its export recorded says what the new run must keep (the
model's shape, its tokenizer).
"""

import functools
from dataclasses import dataclass
from pathlib import Path

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.export.saved_model import check_not_a_copy, export_metadata, load_keras_model, resolve_task_export
from keras_apps.training.run_directory import RunDirectory


@dataclass(frozen=True)
class ExportStart:
    """An export version to train on from, what its `export.json` records, and a hash of its weights."""

    path: Path
    metadata: dict

    def build_model(self):
        """A new copy of the export's Keras model, uncompiled (what `fit`'s `build_model` returns)."""
        return load_keras_model(self.path, self.metadata["task"])[1]

    @functools.cached_property
    def _weights_digest(self):  # read once: a run, a policy's record and an evaluation's checks all ask for it
        return files.digest(self.path / "model.keras")[:16]

    def record(self):
        """What a run started from it records, so that a resumed run refuses an export changed under it."""
        return {"init_from": str(self.path), "init_from_weights": self._weights_digest}


def from_export(handle, task, *, given_flags=(), run_dir=None, use="train from"):
    """The `ExportStart` of the export of `task` at `handle` (a version or a folder of versions), which the command
    is to `use` (its refusal of a compressed copy says what the user asked for: "evaluate", "tune from").

    `given_flags` are the command's flags that would set what the export fixes (the model's shape): any given is
    refused in one line rather than silently ignored. A folder of versions gives its latest, except to a run that
    `run_dir` records as started from one of its versions: resumed, it goes on from that one, not from a version
    published since, by another run or by itself where it exports into the folder it started from.
    """
    if given_flags:
        raise UserError(f"{given_flags[0]} cannot be set with --init-from: the model's shape is the export's")
    path = resolve_task_export(recorded_version(handle, run_dir), task)
    check_not_a_copy(path, use)  # trained, its 8-bit kernels would not learn, nor its 16-bit weights keep updates
    return ExportStart(path, export_metadata(path))


def recorded_version(handle, run_dir, key="init_from"):
    """The version of the folder of versions `handle` that the run in `run_dir` records under `key` (the export
    it started from, the reward it is tuned by), else `handle`: resumed, a run goes on with the version it began
    with, not with one published since.

    Known by what the run folder records, not by its path: a new run in the path of a finished one moved away
    records nothing yet, and takes the latest.
    """
    handle = Path(handle)
    config = run_dir and RunDirectory(run_dir).config
    recorded = config and config.is_file() and RunDirectory.read_record(config).get(key)
    if recorded and Path(recorded).parent.resolve() == handle.resolve():
        return Path(recorded)
    return handle
