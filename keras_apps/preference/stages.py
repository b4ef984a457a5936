"""The exports the stages of preference tuning hand to each other (`python -m tasks.rlhf`), read back with a
one-line error that names the command making a missing one; and the export of a tuned policy.

The SFT model is a GPT export in subwords; the reward model an export of `rlhf-reward`; a tuned policy a GPT
export (so `python -m tasks.gpt generate` serves it) that records its `tuning`: the method, its settings and
the SFT export it started from.
"""

from pathlib import Path

from keras_apps.errors import UserError

REWARD_TASK = "rlhf-reward"
# What a tuned policy's export keeps of its SFT export's record: the model's shape, tokenizer and serving.
KEPT = ("model", "tokenizer", "sampler", "inputs", "outputs", "recipe")


def _missing(handle, command):
    if not Path(handle).exists():
        raise UserError(f"no {command} export at {handle}: make it with `python -m tasks.rlhf {command}`, or name "
                        f"one with --{command}-export")


def sft_stage(handle):
    """`(ExportStart, tokenizer)` of the SFT export at `handle`."""
    from keras_apps.text.characters import load_tokenizer
    from keras_apps.training.init_from import from_export

    _missing(handle, "sft")
    start = from_export(handle, "gpt")
    if start.metadata.get("tokenizer") != "wordpiece":
        raise UserError(f"{start.path} is a GPT of {start.metadata.get('tokenizer')} tokens, not the SFT model of "
                        f"reviews (`python -m tasks.rlhf sft` makes one)")
    return start, load_tokenizer(start.path / "tokenizer.json")


def reward_stage(handle):
    """The Keras reward model of the `rlhf-reward` export at `handle`."""
    from keras_apps.export.saved_model import load_keras_model
    from keras_apps.preference import models  # noqa: F401 - registers the reward model's layers

    _missing(handle, "reward")
    return load_keras_model(handle, REWARD_TASK)[1]


def policy_stage(handle):
    """The `ExportStart` of a tuned policy's export at `handle`."""
    from keras_apps.training.init_from import from_export

    start = from_export(handle, "gpt")
    if "tuning" not in start.metadata:
        raise UserError(f"{start.path} is a GPT export but not a tuned policy (`python -m tasks.rlhf dpo` makes one)")
    return start


def policy_export(policy, tokenizer, sft, tuning):
    """The `Export` of a tuned `policy` (a `build_gpt` model): `generate` as every GPT export serves it, with the
    SFT export's record and `tuning` (`{"method", "settings"}`)."""
    import tensorflow as tf

    from keras_apps.inference.serving import text_generation_endpoint
    from keras_apps.inference.text_generation import build_sampler
    from keras_apps.lifecycle import Export

    sampler = build_sampler(sft.metadata["sampler"], tokenizer.vocabulary_size())
    generate, signature = text_generation_endpoint(policy, tokenizer, sampler)
    return Export({"generate": (tf.function(generate, input_signature=signature), signature)}, track=[tokenizer],
                  files=[sft.path / "tokenizer.json"],
                  metadata={**{key: sft.metadata[key] for key in KEPT if key in sft.metadata}, "task": "gpt",
                            "tuning": {**tuning, "sft_export": str(sft.path)}})
