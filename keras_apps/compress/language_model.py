"""Smaller GPTs: an export's model in bfloat16, float16, Keras int8 and int4 (`keras_apps.compress.variants`), and
in 4 bits chosen by calibration, each copy measured alike and exported with the same `generate` signature, so that
`python -m tasks.gpt generate --export-dir <variant>` serves it.

    gptq, awq   the same 4-bit groups as int4, chosen by Keras's GPTQ (each layer's rounding error corrected
                through the covariance of its inputs) or AWQ (inputs' magnitudes scale the weights before
                rounding), calibrated on 128 context-long windows of training text, block after block

    litert-float32, litert-dynamic-range, litert-float16, litert-int8
                the forward pass converted to LiteRT (`litert_gpt`): float32; int8 weights with activations
                quantized on the fly; float16 weights computed in float32; full integer, its activations' ranges
                recorded on the calibration windows. A `.tflite` file with a `logits` signature, not an export:
                the decoding loop and the tokenizer stay the app's

The token embedding (which also makes the logits), layer norms and biases stay float32. Each variant's row:
its `model.keras` (or `model.tflite`) size raw and gzip'd, its loss on the whole validation split, and greedy
decoding speed at batch 1 and 64 (a 1-token prompt per row; Keras variants with the key/value cache, 1,000 new
tokens by default; LiteRT files without one, each token a forward pass over the whole context window).
"""

import math

import keras

from keras_apps import files
from keras_apps.compress import calibrated as calibrated_quantization
from keras_apps.compress import litert_gpt
from keras_apps.compress.measure import DECODING_BATCH_SIZES, decoding_field, file_sizes, language_model_table
from keras_apps.compress.variants import export_variants, plain_variant, quantized_layers, with_dtype_policy
from keras_apps.compress.weight_formats import CALIBRATED, LITERT
from keras_apps.models.parts import GPTLayers

# What a LiteRT file's matrix products compute in, as the table's "computed in" column says it.
LITERT_COMPUTE = {"float32": "float32", "dynamic-range": "int8 x dynamic int8", "float16": "float32", "int8": "int8"}


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


def scores(model, validation_windows, decoding_tokens_per_second):
    """A variant's figures: its mean loss over `validation_windows` (batches of `(token ids, next ids)`), and
    what `decoding_tokens_per_second(model, batch_size)` measures at each of `DECODING_BATCH_SIZES`."""
    from keras_apps import progress

    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return {"validation_loss": float(model.evaluate(validation_windows, verbose=progress.verbosity())),
            **{decoding_field(batch_size): float(decoding_tokens_per_second(model, batch_size))
               for batch_size in DECODING_BATCH_SIZES}}


def litert_row(model, mode, folder, validation_windows, *, calibration_text, tokenizer, calibration_windows):
    """A LiteRT variant's row: `model`'s forward pass converted as `mode` into `folder/model.tflite` (full
    integer calibrated on `calibration_windows` windows spread over `calibration_text`), measured on the
    interpreter as `scores` measures a Keras variant (decoding without a cache: see above)."""
    variant, windows = LITERT[mode], None
    if variant == "int8":
        context_length = GPTLayers.of(model).position_embedding.sequence_length
        windows = litert_gpt.spread_windows(tokenizer.tokenize(calibration_text), context_length, calibration_windows)
    content = litert_gpt.convert(model, variant, windows)
    path = folder / "model.tflite"
    with files.atomic_path(path) as temporary:
        temporary.write_bytes(content)
    size, gzip_size = file_sizes(path)
    converted = litert_gpt.LiteRTGPT(content)
    return {"compute_dtype": f"{LITERT_COMPUTE[variant]}, LiteRT, uncached", "size_bytes": size,
            "gzip_bytes": gzip_size, "validation_loss": converted.loss(validation_windows),
            **{decoding_field(batch_size): converted.decoding_tokens_per_second(batch_size)
               for batch_size in DECODING_BATCH_SIZES}}


def compress(export_path, directory, modes, *, title, tokenizer, validation_windows, calibration_text,
             calibration_windows, decoding_tokens_per_second, endpoint, metadata):
    """Measures the export at `export_path` and a copy in each of `modes`, exporting each copy into
    `directory/<mode>/1` with `endpoint(model)`'s `generate` signature (`variants.export_variants`).

    Args:
        tokenizer: the export's tokenizer, saved with each variant.
        validation_windows: the whole validation split as batches of `(token ids, next ids)`.
        calibration_text, calibration_windows: GPTQ, AWQ and LiteRT's int8 calibrate on this many windows of the
            training text.
        decoding_tokens_per_second: `(model, batch_size) -> tokens/s`, the same for every variant.
        endpoint: `model -> (function, input_signature)`, the export's `generate` signature for a model.
        metadata: the export's `export.json` facts; each variant's adds its `quantization` and records its own
            `validation` loss and perplexity in place of the export's.
    """
    def make(model, mode):
        if mode in CALIBRATED:
            model = calibrated(model, mode, calibration_text, tokenizer, calibration_windows)
            return model, {"quantized_layers": quantized_layers(model)}
        return plain_variant(model, mode)

    def describe(row):
        speeds = ", ".join(f"{row[decoding_field(size)]:,.0f} at batch {size}" for size in DECODING_BATCH_SIZES)
        return f"validation loss {row['validation_loss']:.4f}, {row['size_bytes']:,} bytes, decoding tokens/s {speeds}"

    return export_variants(
        export_path, directory, modes, make=make, endpoints=lambda model: {"generate": endpoint(model)},
        score=lambda model: scores(model, validation_windows, decoding_tokens_per_second),
        table=lambda rows: language_model_table(title, rows), describe=describe,
        converted={mode: lambda model, folder, mode=mode: litert_row(
            model, mode, folder, validation_windows, calibration_text=calibration_text, tokenizer=tokenizer,
            calibration_windows=calibration_windows) for mode in LITERT},
        measured=lambda scores: {"validation": {"loss": scores["validation_loss"],
                                                "perplexity": math.exp(scores["validation_loss"])}},
        export={"metadata": metadata, "track": [tokenizer],
                "files_to_copy": [export_path / "tokenizer.json"]})
