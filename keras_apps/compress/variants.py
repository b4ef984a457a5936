"""Copies of an export's Keras model in other weight formats, each exported with the export's own serving
signature and measured alike: the loop a GPT's and a translator's `compress` share.

    float32     the export's model (float32 weights), saved without its optimizer: the reference
    bfloat16    the same model with every weight and computation in bfloat16 (half the bytes)
    float16     the same in float16: half the bytes too, a finer mantissa and a narrower range than bfloat16's
    int8        `model.quantize("int8")`: the kernels of every Dense and EinsumDense layer (attention and
                feed-forward) in 8 bits with a scale per output channel, each layer's input quantized to int8
                on the fly (Keras's default config)
    int4        `model.quantize("int4")`: those kernels in 4 bits, rounded to the nearest step of a scale and
                zero point per output and group of 128 inputs; the inputs stay in float (Keras's default)

Embeddings, layer norms and biases stay in float. A task adds its own formats (a GPT's GPTQ and AWQ).
"""

import shutil
from pathlib import Path

import keras

from keras_apps import files
from keras_apps.compress import reports
from keras_apps.compress.calibrated import uncalibrated
from keras_apps.compress.keras_quantize import keras_quantize
from keras_apps.compress.measure import file_sizes
from keras_apps.compress.weight_formats import CALIBRATED, HALVES, QUANTIZED
from keras_apps.errors import UserError

FLOATS = ("float16", "bfloat16", "float32", "float64")

KINDS = (keras.layers.Dense, keras.layers.EinsumDense)  # the layers quantization changes


def quantized(model, mode):
    """`model` (changed in place) with its Dense and EinsumDense kernels in `mode`; returns the paths of the
    layers quantized. Keras leaves the others in float, one warning each: the row lists the quantized ones."""
    if mode not in QUANTIZED:
        raise UserError(f"no {mode!r} quantization here; choose from {', '.join(QUANTIZED)}")
    keras_quantize(model, mode)
    return quantized_layers(model)


def quantized_layers(model):
    return [layer.path for layer in model._flatten_layers() if getattr(layer, "quantization_mode", None)]


def _dtype_policies(config):
    """Each dtype policy's entry (`{"class_name": "...DTypePolicy", "config": {...}}`) in a model's config, its
    layers' nested in dicts and lists; each may be changed in place before the walk goes on."""
    if isinstance(config, dict):
        if str(config.get("class_name", "")).endswith("DTypePolicy") and isinstance(config.get("config"), dict):
            yield config
        for value in config.values():
            yield from _dtype_policies(value)
    elif isinstance(config, list):
        for value in config:
            yield from _dtype_policies(value)


def with_dtype_policy(model, policy):
    """A copy of `model` whose layers all keep their weights and compute as `policy` says (`bfloat16`,
    `float32`): its config with every dtype policy replaced, then the weights cast; and the casts between its
    layers (`ops.cast(mask, x.dtype)`, in pooling), which keep the float dtype they were built with, not a policy:
    a mixed-precision model's left a float16 op that LiteRT refuses, a float32 model's computed part of a 16-bit
    copy in float32."""
    config = model.get_config()
    for entry in _dtype_policies(config):
        if entry["class_name"] == "DTypePolicy":
            entry["config"]["name"] = policy
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    for operation in copy.operations:
        if not isinstance(operation, keras.layers.Layer) and getattr(operation, "dtype", None) in FLOATS:
            operation.dtype = policy
    return copy


def load_quantized(path, mode):
    """The model of a `.keras` file that a model quantized in `mode` (`QUANTIZED` or `CALIBRATED`) was saved to.
    Keras saves the quantized dtype policy of top-level layers only, not of the layers inside keras-hub's blocks,
    so its own loading builds those in float and refuses their quantized variables (keras-team/keras#21378): the
    model is built in float from the file's config, given the variables of `mode`, then the file's weights."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    for entry in _dtype_policies(config):
        if "source_name" in entry["config"]:  # a quantized policy: the float one it quantizes from
            entry.update(class_name="DTypePolicy", module="keras", config={"name": entry["config"]["source_name"]})
    model = keras.saving.deserialize_keras_object(config)
    if mode in CALIBRATED:
        uncalibrated(model, mode)
    else:
        keras_quantize(model, mode)
    model.load_weights(path)
    return model


def plain_variant(model, variant):
    """`(model in variant, extra row fields)` for each of `weight_formats.PLAIN`."""
    if variant in HALVES:
        return with_dtype_policy(model, variant), {}
    return model, {"quantized_layers": quantized(model, variant)}


def matmul_compute_dtype(model):
    """What the Dense and EinsumDense layers compute in (`mixed_bfloat16` models: bfloat16), the layers that
    quantization changes; the model's own policy may say float32 while they run in bfloat16."""
    return ", ".join(sorted({layer.dtype_policy.compute_dtype for layer in model._flatten_layers()
                             if isinstance(layer, KINDS)}))


def export_variants(export_path, directory, variants, *, make, endpoints, score, table, describe, export,
                    converted=None, measured=lambda scores: {}):
    """Measures the export at `export_path` and a copy in each of `variants`, exporting each copy into
    `directory/<variant>/1`; writes `compression.json` and `.md` into `directory` once every row is measured
    (`reports`) and returns the rows.

    Args:
        make: `(model, variant) -> (model, extra row fields)`: the export's model (a fresh copy) in `variant`.
        endpoints: `model -> {signature name: (function, input signature)}`, the export's own signatures.
        score: `model -> {figure: value}`, the same for every variant (quality and speed).
        table: `rows -> Markdown`; describe: `row -> str`, the line printed after each row.
        export: `export_model`'s keyword arguments for each copy (`metadata`, whose `quantization` each copy
            sets; `track`, `files_to_copy`).
        measured: `scores -> {key: value}`: the figures a copy's `export.json` records of itself, in place of the
            original's (a GPT's validation loss); none by default.
        converted: `{variant: (model, folder) -> row fields}` for variants that are not Keras models (a LiteRT
            file): each writes its file into `folder` and measures it itself, giving every field of a row but
            its name.
    """
    directory, converted = Path(directory), converted or {}
    reports.check_no_report(directory)
    _clear_unreported_copies(directory, variants, export_path, converted)
    rows = []
    for variant in ("float32", *variants):
        model = reports.load_export_model(export_path)
        if variant in converted:
            print(f"{variant}: converting into {directory / variant}", flush=True)
            row = converted[variant](model, directory / variant)
        else:
            model, row, path = _keras_variant(model, variant, directory, make, endpoints, score, export_path,
                                              {**export, "run_id": _copy_identity(export_path, variant)}, measured)
            size, gzip_size = file_sizes(path)
            row = {"compute_dtype": matmul_compute_dtype(model), "size_bytes": size, "gzip_bytes": gzip_size, **row}
        rows.append({"variant": variant, **row})
        print(f"{variant}: {describe(rows[-1])}", flush=True)
    reports.write_report(directory, rows, table(rows), export_path)
    return rows


def _keras_variant(model, variant, directory, make, endpoints, score, export_path, export, measured):
    """`(model in variant, its scores and extra row fields, its .keras file)`: float32 saved as it is (without the
    optimizer the export's model.keras also holds, as the variants are saved), any other made by `make`, scored
    and exported with a card of its own (`copy_card`)."""
    from keras_apps.export.saved_model import export_model

    if variant == "float32":
        path = directory / "float32.keras"
        with files.atomic_path(path) as temporary:
            model.save(temporary)
        return model, score(model), path
    model, extra = make(model, variant)
    scores = score(model)
    print(f"{variant}: exporting to {directory / variant}", flush=True)
    card = copy_card(export_path, variant, scores)
    path = export_model(model, directory / variant, endpoints(model),
                        **{**export, "metadata": {**export["metadata"], **measured(scores), "quantization": variant},
                           "documents": {"MODEL_CARD.md": card}})
    return model, {**scores, **extra}, path / "model.keras"


def copy_card(export_path, variant, scores):
    """The `MODEL_CARD.md` of a copy in `variant` of the export at `export_path`: its own `scores` first, then the
    original's card (what the model is, its data, use and limits), whose figures are the original's."""
    original = Path(export_path) / "MODEL_CARD.md"
    card = original.read_text(encoding="utf-8") if original.is_file() else ""
    rows = [f"| {name} | {value:,.4f} |" for name, value in scores.items() if isinstance(value, (int, float))]
    return "\n".join([
        f"# Model card: a {variant} copy of {Path(export_path).resolve()}", "",
        f"The original's model with its weights in {variant} (`compress`): it answers otherwise than the original "
        "on some inputs. Its own figures, as the compression's report (`compression.md`) measured them:", "",
        "| figure | value |", "| --- | --- |", *rows, "",
        *(["The figures of the card below are the original's, measured before compression.", ""] if card else []),
        *("#" + line if line.startswith("#") else line for line in card.splitlines()), ""])


def _copy_identity(export_path, variant):
    """What a variant's exported copy records as its run (`export.json`): the export it copies (its version path
    and the run that made it) and the format."""
    from keras_apps.export.saved_model import export_metadata

    return f"{Path(export_path).resolve()} ({export_metadata(export_path).get('run_id')}) as {variant}"


def _clear_unreported_copies(directory, variants, export_path, converted):
    """A folder without a report may hold what interrupted runs of the same compression made, in this run's formats
    or in others they were asked for: the copies they exported and the files they converted. Those are removed, so
    that the folder holds only what its report measures (each copy as `<variant>/1`), no stale copy beside them. A
    version any other run wrote into this run's variants' folders is refused before any work, and kept."""
    from keras_apps.export.saved_model import published_by
    from keras_apps.export.versions import versions

    stale = [directory / name for name in converted if name not in variants and (directory / name).is_dir()]
    for folder in sorted({*(directory / variant for variant in variants), *directory.glob("*/")} - {*stale}):
        ours = published_by(folder, _copy_identity(export_path, folder.name))
        others = [version for version in versions(folder) if folder / str(version) != ours]
        if others and folder.name in variants:
            raise UserError(f"{folder} holds version {others[0]}, which is no copy of {export_path} that this "
                            f"compression made; choose another --run-dir")
        if ours:  # the folder of a format this run does not make goes whole, unless another run's version is in it
            stale.append(ours if folder.name in variants or others else folder)
    for path in stale:
        shutil.rmtree(path)
