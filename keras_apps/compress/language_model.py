"""Smaller GPTs: an export's model with its weights quantized by Keras, each copy measured alike and exported
with the same `generate` signature, so that `python -m tasks.gpt generate --export-dir <variant>` serves it.

    float32     the export's model (float32 weights), saved without its optimizer: the reference
    bfloat16    the same model with every weight and computation in bfloat16 (half the bytes)
    int8        `model.quantize("int8")`: the kernels of every Dense and EinsumDense layer (attention and
                feed-forward) in 8 bits with a scale per output channel, each layer's input quantized to int8
                on the fly (Keras's default config)
    int4        `model.quantize("int4")`: those kernels in 4 bits, rounded to the nearest step of a scale and
                zero point per output and group of 128 inputs; the inputs stay in float (Keras's default)
    gptq, awq   the same 4-bit groups, chosen by Keras's GPTQ (each layer's rounding error corrected through
                the covariance of its inputs) or AWQ (inputs' magnitudes scale the weights before rounding),
                calibrated on 128 context-long windows of training text, block after block

The token embedding (which also makes the logits), layer norms and biases stay float32. Each variant's row:
its `model.keras` size raw and gzip'd, its loss on the whole validation split, and greedy decoding speed with
the key/value cache at batch 1 and 64 (a 1-token prompt per row, 1,000 new tokens by default).
"""

import warnings
from pathlib import Path

import keras

from keras_apps import files
from keras_apps.compress import calibrated as calibrated_quantization
from keras_apps.compress.measure import DECODING_BATCH_SIZES, decoding_field, file_sizes, language_model_table
from keras_apps.errors import UserError
from keras_apps.models.parts import GPTLayers

MODES = ("bfloat16", "int8", "int4", *calibrated_quantization.MODES)
QUANTIZED = ("int8", "int4")  # what `model.quantize` does alone; bfloat16 is a cast of the whole model


def quantized(model, mode):
    """`model` (a `build_gpt` model, changed in place) with its Dense and EinsumDense kernels in `mode`;
    returns the names of the layers quantized. Keras leaves the others in float, one warning each: the row
    lists the quantized ones instead."""
    if mode not in QUANTIZED:
        raise UserError(f"no {mode!r} quantization for a GPT; choose from {', '.join(QUANTIZED)}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        model.quantize(mode)
    return _quantized_layers(model)


def _quantized_layers(model):
    return [layer.path for layer in model._flatten_layers() if getattr(layer, "quantization_mode", None)]


def calibrated(model, mode, text, tokenizer, windows=128):
    """A copy of `model` (a `build_gpt` model) computing in float32, quantized by `mode` (`gptq` or `awq`,
    `calibrated.quantize`) on `windows` context-long windows of `text` (the training text) as `tokenizer`
    reads it.

    In float32 because in Keras 3.15 these layers hold each input's group as a fraction (1022 / 128) in a
    float variable that a bfloat16 layer reads rounded (to 8.0): the wrong group, or past the last one."""
    model = with_dtype_policy(model, "float32")
    layers = GPTLayers.of(model)
    calibrated_quantization.quantize(model, mode, dataset=[text], tokenizer=tokenizer,
                                     structure=layers.quantization_structure(),
                                     sequence_length=layers.position_embedding.sequence_length, windows=windows)
    return model


def with_dtype_policy(model, policy):
    """A copy of `model` whose layers all keep their weights and compute as `policy` says (`bfloat16`,
    `float32`): its config with every dtype policy replaced, then the weights cast."""
    def replace_policies(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy":
                node["config"]["name"] = policy
            for value in node.values():
                replace_policies(value)
        elif isinstance(node, list):
            for value in node:
                replace_policies(value)

    config = model.get_config()
    replace_policies(config)
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def measure(variant, model, path, validation_windows, decoding_tokens_per_second, **extra):
    """One variant's row: the size of its saved `path`, its mean loss over `validation_windows` (batches of
    `(token ids, next ids)`), and what `decoding_tokens_per_second(model, batch_size)` measures at each of
    `DECODING_BATCH_SIZES`."""
    from keras_apps import progress

    size, gzip_size = file_sizes(path)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return {"variant": variant, "compute_dtype": _matmul_compute_dtype(model), "size_bytes": size,
            "gzip_bytes": gzip_size,
            "validation_loss": float(model.evaluate(validation_windows, verbose=progress.verbosity())),
            **{decoding_field(batch_size): float(decoding_tokens_per_second(model, batch_size))
               for batch_size in DECODING_BATCH_SIZES}, **extra}


def _matmul_compute_dtype(model):
    """What the Dense and EinsumDense layers compute in (`mixed_bfloat16` models: bfloat16), the layers that
    quantization changes; the model's own policy may say float32 while they run in bfloat16."""
    kinds = (keras.layers.Dense, keras.layers.EinsumDense)
    return ", ".join(sorted({layer.dtype_policy.compute_dtype for layer in model._flatten_layers()
                             if isinstance(layer, kinds)}))


def compress(export_path, directory, modes, *, title, tokenizer, validation_windows, calibration_text,
             calibration_windows, decoding_tokens_per_second, endpoint, metadata):
    """Measures the export at `export_path` and a copy quantized in each of `modes`, exporting each copy into
    `directory/<mode>/1` with `endpoint(model)`'s `generate` signature; writes `compression.json` and `.md`
    into `directory` after each row and returns the rows.

    Args:
        tokenizer: the export's tokenizer, saved with each variant.
        validation_windows: the whole validation split as batches of `(token ids, next ids)`.
        calibration_text, calibration_windows: GPTQ and AWQ calibrate on this many windows of the training text.
        decoding_tokens_per_second: `(model, batch_size) -> tokens/s`, the same for every variant.
        endpoint: `model -> (function, input_signature)`, the export's `generate` signature for a model.
        metadata: the export's `export.json` facts; each variant's adds its `quantization`.
    """
    from keras_apps.export.saved_model import export_model

    directory = Path(directory)
    if (directory / "compression.json").exists():
        raise UserError(f"{directory} already holds a compression report; choose another --run-dir")
    rows = []
    for variant in ("float32", *modes):
        model = keras.saving.load_model(export_path / "model.keras", compile=False)
        path, extra = directory / "float32.keras", {}
        if variant == "float32":  # as the variants are saved: the export's model.keras also holds its optimizer
            with files.atomic_path(path) as temporary:
                model.save(temporary)
        else:
            if variant == "bfloat16":
                model = with_dtype_policy(model, "bfloat16")
            elif variant in calibrated_quantization.MODES:
                model = calibrated(model, variant, calibration_text, tokenizer, calibration_windows)
                extra["quantized_layers"] = _quantized_layers(model)
            else:
                extra["quantized_layers"] = quantized(model, variant)
            print(f"{variant}: exporting to {directory / variant}", flush=True)
            path = export_model(model, directory / variant, {"generate": endpoint(model)},
                                metadata={**metadata, "quantization": variant}, track=[tokenizer],
                                files_to_copy=[export_path / "tokenizer.json", export_path / "MODEL_CARD.md"])
            path = path / "model.keras"
        rows.append(measure(variant, model, path, validation_windows, decoding_tokens_per_second, **extra))
        files.write_json(directory / "compression.json", rows)
        files.write_text(directory / "compression.md", language_model_table(title, rows))
        speeds = ", ".join(f"{rows[-1][decoding_field(size)]:,.0f} at batch {size}" for size in DECODING_BATCH_SIZES)
        print(f"{variant}: validation loss {rows[-1]['validation_loss']:.4f}, {rows[-1]['size_bytes']:,} bytes, "
              f"decoding tokens/s {speeds}", flush=True)
    return rows
