"""Training that goes on from an export (`--init-from`): its Keras model trains further, whole or through LoRA
adapters (`keras_apps.training.lora`), and what its export recorded says what the new run must keep (the
model's shape, its tokenizer).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from keras_apps.errors import UserError
from keras_apps.export.saved_model import export_metadata, load_keras_model, resolve_task_export


@dataclass(frozen=True)
class ExportStart:
    """An export version to train on from, what its `export.json` records, and a hash of its weights."""

    path: Path
    metadata: dict

    def build_model(self):
        """A new copy of the export's Keras model, uncompiled (what `fit`'s `build_model` returns)."""
        return load_keras_model(self.path, self.metadata["task"])[1]

    def record(self):
        """What a run started from it records, so that a resumed run refuses an export changed under it."""
        digest = hashlib.sha256()
        with open(self.path / "model.keras", "rb") as weights:
            for chunk in iter(lambda: weights.read(1 << 20), b""):
                digest.update(chunk)
        return {"init_from": str(self.path), "init_from_weights": digest.hexdigest()[:16]}


def from_export(handle, task, *, given_flags=()):
    """The `ExportStart` of the export of `task` at `handle` (a version or a folder of versions).

    `given_flags` are the command's flags that would set what the export fixes (the model's shape): any given is
    refused in one line rather than silently ignored.
    """
    if given_flags:
        raise UserError(f"{given_flags[0]} cannot be set with --init-from: the model's shape is the export's")
    path = resolve_task_export(handle, task)
    return ExportStart(path, export_metadata(path))
