"""Smaller GPTs: an export's model with its weights quantized by Keras, each copy measured alike and exported
with the same `generate` signature, so that `python -m tasks.gpt generate --export-dir <variant>` serves it.

    float32     the export's model (float32 weights), saved without its optimizer: the reference
    bfloat16    the same model with every weight and computation in bfloat16 (half the bytes)
    int8, int4  `model.quantize(mode)`: the kernels of every Dense and EinsumDense layer (attention and
                feed-forward) in 8 or 4 bits with a scale per output channel, each layer's input quantized
                to int8 on the fly (Keras's default configs); the token embedding (which also makes the
                logits), layer norms and biases stay float32

Each variant's row: its `model.keras` size raw and gzip'd, its loss on the whole validation split, and
greedy decoding speed with the key/value cache at batch 1 (a 1-token prompt, 1,000 new tokens by default).
"""

import warnings
from pathlib import Path

import keras

from keras_apps import files
from keras_apps.compress.measure import file_sizes
from keras_apps.errors import UserError

MODES = ("bfloat16", "int8", "int4")
QUANTIZED = ("int8", "int4")  # what `model.quantize` does; bfloat16 is a cast of the whole model


def quantized(model, mode):
    """`model` (a `build_gpt` model, changed in place) with its Dense and EinsumDense kernels in `mode`;
    returns the names of the layers quantized. Keras leaves the others in float, one warning each: the row
    lists the quantized ones instead."""
    if mode not in QUANTIZED:
        raise UserError(f"no {mode!r} quantization for a GPT; choose from {', '.join(QUANTIZED)}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        model.quantize(mode)
    return [layer.path for layer in model._flatten_layers() if getattr(layer, "quantization_mode", None)]


def in_bfloat16(model):
    """A copy of `model` whose layers all keep their weights and compute in bfloat16 (its config with every
    dtype policy made `bfloat16`, then the weights cast)."""
    def policies_to_bfloat16(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy":
                node["config"]["name"] = "bfloat16"
            for value in node.values():
                policies_to_bfloat16(value)
        elif isinstance(node, list):
            for value in node:
                policies_to_bfloat16(value)

    config = model.get_config()
    policies_to_bfloat16(config)
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def measure(variant, model, path, validation_windows, decoding_tokens_per_second, **extra):
    """One variant's row: the size of its saved `path`, its mean loss over `validation_windows` (batches of
    `(token ids, next ids)`), and what `decoding_tokens_per_second(model)` measures."""
    from keras_apps import progress

    size, gzip_size = file_sizes(path)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return {"variant": variant, "compute_dtype": _matmul_compute_dtype(model), "size_bytes": size,
            "gzip_bytes": gzip_size,
            "validation_loss": float(model.evaluate(validation_windows, verbose=progress.verbosity())),
            "decoding_tokens_per_second": float(decoding_tokens_per_second(model)), **extra}


def _matmul_compute_dtype(model):
    """What the Dense and EinsumDense layers compute in (`mixed_bfloat16` models: bfloat16), the layers that
    quantization changes; the model's own policy may say float32 while they run in bfloat16."""
    kinds = (keras.layers.Dense, keras.layers.EinsumDense)
    return ", ".join(sorted({layer.dtype_policy.compute_dtype for layer in model._flatten_layers()
                             if isinstance(layer, kinds)}))


def markdown_table(title, rows):
    """The rows as a Markdown table, sizes in KB and against float32's, under a `### title` heading."""
    reference = rows[0]
    lines = [f"### {title}", "",
             "| weights | computed in | size (KB) | of float32 | gzip'd (KB) | validation loss | vs float32 | "
             "decoding tokens/s (batch 1, cached) | vs float32 |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(
            f"| {row['variant']} | {row['compute_dtype']} | {row['size_bytes'] / 1000:,.1f} | "
            f"{row['size_bytes'] / reference['size_bytes']:.0%} | {row['gzip_bytes'] / 1000:,.1f} | "
            f"{row['validation_loss']:.4f} | {row['validation_loss'] - reference['validation_loss']:+.4f} | "
            f"{row['decoding_tokens_per_second']:,.0f} | "
            f"{row['decoding_tokens_per_second'] / reference['decoding_tokens_per_second']:.2f}x |")
    return "\n".join(lines) + "\n"


def compress(export_path, directory, modes, *, title, validation_windows, decoding_tokens_per_second, endpoint,
             metadata, track=()):
    """Measures the export at `export_path` and a copy quantized in each of `modes`, exporting each copy into
    `directory/<mode>/1` with `endpoint(model)`'s `generate` signature; writes `compression.json` and `.md`
    into `directory` after each row and returns the rows.

    Args:
        validation_windows: the whole validation split as batches of `(token ids, next ids)`.
        decoding_tokens_per_second: `model -> tokens/s`, the same for every variant.
        endpoint: `model -> (function, input_signature)`, the export's `generate` signature for a model.
        metadata: the export's `export.json` facts; each variant's adds its `quantization`.
        track: what the endpoint uses besides the model (the tokenizer), saved with each variant.
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
                model = in_bfloat16(model)
            else:
                extra["quantized_layers"] = quantized(model, variant)
            print(f"{variant}: exporting to {directory / variant}", flush=True)
            path = export_model(model, directory / variant, {"generate": endpoint(model)},
                                metadata={**metadata, "quantization": variant}, track=track,
                                files_to_copy=[export_path / "tokenizer.json", export_path / "MODEL_CARD.md"])
            path = path / "model.keras"
        rows.append(measure(variant, model, path, validation_windows, decoding_tokens_per_second, **extra))
        files.write_json(directory / "compression.json", rows)
        files.write_text(directory / "compression.md", markdown_table(title, rows))
        print(f"{variant}: validation loss {rows[-1]['validation_loss']:.4f}, {rows[-1]['size_bytes']:,} bytes, "
              f"{rows[-1]['decoding_tokens_per_second']:,.0f} tokens/s decoding", flush=True)
    return rows
