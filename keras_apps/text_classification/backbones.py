"""BERT backbones as keras-hub presets: how a pre-trained backbone is saved once and reused.

A preset is a folder (`config.json`, `model.weights.h5`, `tokenizer.json`, the vocabulary under
`assets/`) that `from_preset` reads; the same call takes a keras-hub preset name such as
`bert_tiny_en_uncased`, which it downloads. So a backbone pre-trained here and a published one load the
same way, and the tokenizer always travels with the weights it was trained with.
"""

import json
from pathlib import Path

import keras_hub

from keras_apps import files
from keras_apps.errors import UserError


PRETRAINING_RECORD = "pretraining.json"  # Beside the preset's files: how the backbone was pre-trained.


def save_backbone(backbone, tokenizer, path, pretraining=None):
    """Writes `backbone`, its `tokenizer` and the `pretraining` figures as a preset folder at `path`, atomically."""
    with files.atomic_path(path, directory=True) as temporary:
        backbone.save_to_preset(str(temporary))
        tokenizer.save_to_preset(str(temporary))
        if pretraining is not None:
            files.write_json(temporary / PRETRAINING_RECORD, pretraining)
    return Path(path)


def pretraining_record(handle):
    """The pre-training figures saved with a backbone folder, or `{}` (a hub preset, or none were saved)."""
    record = Path(handle) / PRETRAINING_RECORD
    try:
        return json.loads(record.read_text()) if record.is_file() else {}
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {record}: {exc}") from None


def load_backbone(handle, **overrides):
    """`(backbone, tokenizer)` from a preset folder or a keras-hub preset name; a one-line error if it fails.

    `overrides` replace settings of the saved configuration that do not change the weights, such as `dropout`
    (pre-training here runs without it; fine-tuning adds it back).
    """
    is_folder = Path(handle).exists()
    if is_folder and not (Path(handle) / "config.json").is_file():
        raise UserError(f"{handle} is not a saved backbone (it has no config.json)")
    try:
        backbone = keras_hub.models.BertBackbone.from_preset(str(handle), **overrides)
        tokenizer = keras_hub.models.BertTokenizer.from_preset(str(handle))
    except Exception as exc:  # noqa: BLE001 - keras-hub raises many types (network, file, config); all end here.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if is_folder:
            raise UserError(f"cannot load the backbone saved in {handle}: {reason}") from exc
        raise UserError(
            f"cannot load the keras-hub preset {handle!r} ({reason}); presets are downloaded from Kaggle, "
            "so this needs the network, or give the path of a preset folder instead"
        ) from exc
    # An id past the embedding's rows fails mid-training on a CPU, and reads a row of zeros on a GPU.
    if tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise UserError(f"{handle}: its tokenizer has {tokenizer.vocabulary_size():,} tokens, more than the "
                        f"{backbone.vocabulary_size:,} its backbone embeds")
    return backbone, tokenizer
