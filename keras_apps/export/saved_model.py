"""SavedModel export in TF Serving's versioned layout, written atomically, and reloaded with checks.

    saved_models/<task>/<version>/     a complete SavedModel (TF Serving loads the highest version)
        saved_model.pb, variables/     the serving graph with explicit signatures
        model.keras                    the same model for Keras users (`keras.saving.load_model(path,
                                       compile=False)`); for text, the network after the tokenizer (token ids
                                       or features in)
        vocabulary.txt                 for WordPiece models, the vocabulary the serving graph reads with; other
                                       tasks' files read beside the model (a GPT's tokenizer.json, a bag of
                                       words' ngrams.txt, a translator's vocabularies), and MODEL_CARD.md
        export.json                    what the signature takes and returns, the run it came from, and the
                                       SHA-256 of every other file (`files_sha256`, `check_published_files`)

Text exports run tensorflow-text ops: a process that loads one imports `tensorflow_text` first.

A version is written under a temporary name and renamed into place only once complete, taking the next
free number at that moment: a failed export leaves every earlier version untouched, two runs exporting at
once each publish a whole version, and TF Serving never sees a half-written one. A version read by this suite
must hold the very files it published: one swapped in from another export, or changed since, is refused.
"""

import errno
import hashlib
import json
import os
import shutil
import zipfile
import zlib
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.export.versions import versions

SERVING_SIGNATURE = "serving_default"
FILE_DIGESTS = "files_sha256"  # the export.json key of `{path in the version: SHA-256}` (`check_published_files`)


def export_model(model, export_root, endpoints, *, metadata=None, track=(), files_to_copy=(), documents=None,
                 run_id=None, kind=None):
    """Publishes `model` as the next free version under `export_root`; returns the version's path.

    The version is written under a temporary name and takes its number only when it is complete: the next
    free one at that moment, so two runs exporting to the same folder each publish a whole version of their
    own, and TF Serving never sees a half-written one.

    Args:
        model: the trained `keras.Model`.
        export_root: the task's export folder (`saved_models/<task>`).
        endpoints: `{name: (function, input_signature)}`; Keras also makes the first one
            `serving_default`, the signature TF Serving calls when a request names none.
        metadata: JSON-serialisable facts stored as `export.json` beside the model.
        track: other objects the endpoints use (a tokenizer, a vectorizer), saved into the graph with them.
        files_to_copy: files placed beside the model, such as the vocabulary it reads with.
        documents: `{file name: text}` written beside the model, such as its model card.
        run_id: the identity of the run the export comes from (`lifecycle.Run.identity`), recorded in
            `export.json`. A version this run published already (an attempt killed after publishing) is returned
            instead of a second one, and what its killed attempts left half-written is removed.
        kind: `(task, facts)` this export must share with the folder's latest version (`check_export_root`),
            asked again as it is published: another run started beside this one, on the folder still empty,
            may have published another task's or another kind's model into it while this one trained.
    """
    if not endpoints:
        raise ValueError("export_model needs at least one endpoint")
    export_root = Path(export_root)
    if export_root.exists() and not export_root.is_dir():
        raise UserError(f"--export-dir {export_root} exists and is not a directory")
    metadata = {**(metadata or {}), **({"run_id": run_id} if run_id is not None else {})}
    if run_id is not None:
        published = published_by(export_root, run_id)
        if published is not None:
            return published
    prefix = f".export-{_owner(run_id)}-"
    export_root.mkdir(parents=True, exist_ok=True)
    if run_id is not None:
        for stale in export_root.glob(f"{prefix}*"):
            shutil.rmtree(stale, ignore_errors=True)
    temporary = files.new_temporary(export_root, prefix, directory=True)  # not mkdtemp's 0700: readable by TF Serving
    try:
        write_saved_model(model, temporary, endpoints, track=track)
        model.save(temporary / "model.keras")
        for path in files_to_copy:
            shutil.copyfile(path, temporary / Path(path).name)
        for name, text in (documents or {}).items():
            files.write_text(temporary / name, text)
        return _publish(temporary, export_root, metadata, kind)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _owner(run_id):
    """A short tag of the run, naming the temporaries of its exports (one name for every run-less export)."""
    if run_id is None:
        return "anonymous"
    return hashlib.sha256(run_id.encode()).hexdigest()[:12]


def _publish(temporary, export_root, metadata, kind=None):
    """Renames the complete `temporary` to the next free version number, retrying when another process takes it,
    after checking the latest version is of the same `kind` (`export_model`). Its `export.json` records the digest
    of every other file (`check_published_files`)."""
    digests = _file_digests(temporary)
    while True:
        if kind is not None:
            try:
                check_export_root(export_root, *kind)
            except UserError as exc:
                raise UserError(f"{exc} (published by another run while this one trained; this run's model is "
                                f"trained and kept: run the same command with another --export-dir to export it)"
                                ) from None
        version = (versions(export_root) or [0])[-1] + 1
        while os.path.lexists(export_root / str(version)):  # taken by a file, or a link to nothing
            version += 1
        files.write_json(temporary / "export.json", {"version": version, **metadata, FILE_DIGESTS: digests})
        try:
            os.rename(temporary, export_root / str(version))  # fails if another writer published this number
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        return export_root / str(version)


def published_by(export_root, run_id):
    """The version under `export_root` that the run `run_id` published, or None."""
    for version in versions(export_root):
        path = Path(export_root) / str(version)
        try:
            recorded = json.loads((path / "export.json").read_text()).get("run_id")
        except (OSError, ValueError):
            continue
        if recorded == run_id:
            return path
    return None


def write_saved_model(model, path, endpoints, *, track=()):
    """Writes the SavedModel of `model` with `endpoints` (`{name: (function, input_signature)}`) to `path`."""
    archive = keras.export.ExportArchive()
    for trackable in (model, *track):
        archive.track(trackable)
    for name, (function, input_signature) in endpoints.items():
        archive.add_endpoint(name=name, fn=function, input_signature=input_signature)
    archive.write_out(str(path), verbose=False)


def resolve_version(path):
    """`path` itself if it is a SavedModel, else its highest version; a clear error when neither."""
    path = Path(path)
    if (path / "saved_model.pb").is_file():
        return path
    if not path.exists():
        raise UserError(f"export directory {path} does not exist")
    found = versions(path)
    if not found:
        raise UserError(f"{path} holds no SavedModel (no saved_model.pb and no numbered version folders)")
    return path / str(found[-1])


# The facts of an export's kind (`check_export_root`): what its inputs or its answers depend on, past its task.
KIND_FACTS = ("direction", "senses", "tuned_by")


def check_export_root(export_root, task, kind=None):
    """Raises a one-line `UserError` when `export_root` already holds versions that are not exports of `task`, or
    not of its `kind` (the `KIND_FACTS` its `export.json` records, such as a translator's direction:
    `{"direction": "es-en"}`; a run whose exports record none of them is of no kind, a GPT's untuned by RLHF).

    Checked before a run starts: the next version would hide the other model from everything that loads the
    folder's latest version (TF Serving, this suite's commands, the demo), which would go on sending it the
    other model's inputs (English sentences to a Spanish-to-English translator), found only after the training.
    A folder of compressed copies (`compress`'s, whose `export.json` records their `quantization`) is refused
    too: a trained float32 model would be served under the copy's format, and the copy records its original's kind.
    """
    found = versions(export_root)
    if not found:
        return
    latest = Path(export_root) / str(found[-1])
    try:
        recorded = json.loads((latest / "export.json").read_text())
    except (OSError, ValueError):
        recorded = {}
    if "quantization" in recorded:
        raise UserError(f"--export-dir {export_root} holds compressed copies ({recorded['quantization']}) made by "
                        f"compress; export this run elsewhere, into a folder of its own")
    other = recorded.get("task")
    if other != task:
        holds = f"exports of the {other!r} task" if other else f"version {found[-1]}, not an export of this suite"
        raise UserError(f"--export-dir {export_root} holds {holds}; give the {task!r} export a folder of its own")
    kind = kind or {}
    for fact in sorted({*kind, *(fact for fact in KIND_FACTS if fact in recorded)}):
        if recorded.get(fact) != kind.get(fact):
            holds = f"of {fact} {recorded[fact]!r}" if fact in recorded else f"that record no {fact}"
            this = (f"({fact} {kind[fact]!r}) a folder of its own, e.g. {export_root}-{kind[fact]}" if fact in kind
                    else f"(no {fact}) a folder of its own")
            raise UserError(f"--export-dir {export_root} holds {task} exports {holds}; give this one {this}")


def check_readable_by_tensorflow(path, named):
    """Refuses, in one line, a path holding `[` or `]` for a SavedModel (`named`: the flag or the use naming it):
    TensorFlow finds a SavedModel's variables by reading their path as a glob pattern, in which brackets make a
    character class (escaping them does not help), so one written under such a path can never be loaded."""
    if "[" in str(path) or "]" in str(path):
        raise UserError(f"{named} {path}: TensorFlow cannot read a SavedModel under a path holding '[' or ']'; "
                        "use a path without them")


def check_outside_exports(path, flag):
    """Refuses, in one line, a folder to write into that lies in a published export version (the folder itself
    or one above it holds `saved_model.pb` or `export.json`): its files would join the SavedModel a server serves
    from there, and could replace the export's own (its tokenizer, its card)."""
    resolved = Path(path).resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / "saved_model.pb").is_file() or (folder / "export.json").is_file():
            hint = f"; {flag} takes the folder of versions, e.g. {folder.parent}" if flag == "--export-dir" else ""
            raise UserError(f"{flag} {path} lies inside the export {folder}: a published version is never written "
                            f"into{hint}")


def export_metadata(version_path):
    """The facts an export version records in its `export.json` (task, model, settings, figures)."""
    try:
        metadata = json.loads((Path(version_path) / "export.json").read_text())
    except (OSError, ValueError):
        metadata = None
    if not isinstance(metadata, dict):  # a JSON list or string, edited by hand, is no export's record either
        raise UserError(f"{version_path} has no readable export.json: it is not an export of this suite")
    return metadata


def resolve_task_export(path, task):
    """The export version at `path` (see `resolve_version`), after checking it is a whole export of `task` that holds
    the files it published (`check_published_files`)."""
    version_path = resolve_version(path)
    metadata = export_metadata(version_path)
    if metadata.get("task") != task:
        raise UserError(f"{version_path} is an export of the {metadata.get('task')!r} task, not of {task!r}")
    if not (version_path / "model.keras").is_file():
        raise UserError(f"{version_path} has no model.keras: the export is incomplete")
    check_published_files(version_path)
    return version_path


def _file_digests(version_path):
    """`{relative POSIX path: SHA-256}` of every file in the version folder, through linked folders too, but its
    `export.json`, hidden files (a file manager's `.DS_Store`) and TF Serving's own `assets.extra/` (where a
    server's warm-up requests go): none of this suite's, and nothing it reads."""
    version_path = Path(version_path)
    found = sorted(Path(folder, name).relative_to(version_path)
                   for folder, _, names in os.walk(version_path, followlinks=True) for name in names)
    return {path.as_posix(): files.digest(version_path / path) for path in found
            if path != Path("export.json") and path.parts[0] != "assets.extra"
            and not any(part.startswith(".") for part in path.parts)}


def check_published_files(version_path):
    """Refuses, in one line, an export version whose files are not those it published (`_publish` records their
    digests): a `model.keras`, a `variables/` or a side file (a tokenizer, n-grams) copied in from another export
    or changed since would otherwise be used with this one's SavedModel and record, silently giving another
    model's answers. Reads every file: about 0.6 s for a default-size GPT export's 217 MB. An export recorded
    before digests were (no `files_sha256` in its `export.json`) is read as before, unchecked."""
    recorded = export_metadata(version_path).get(FILE_DIGESTS)
    if recorded is None:
        return
    found = _file_digests(version_path)
    again = "export the model again"
    for name in sorted(recorded.keys() | found.keys()):
        if name not in found:
            problem = f"is missing (this export published it); {again}"
        elif name not in recorded:
            problem = "was added since it was exported (this export did not publish it); remove it"
        elif found[name] != recorded[name]:
            problem = f"changed since it was exported (it is not the file this export published); {again}"
        else:
            continue
        raise UserError(f"{Path(version_path) / name} {problem}")


def load_keras_model(path, task):
    """`(version_path, its model.keras)`: the Keras model of an export of `task`, for code that needs its layers."""
    from keras_apps.compress.weight_formats import CALIBRATED, QUANTIZED
    from keras_apps.models import attention_explained  # noqa: F401 - registers the written-out layers it may hold

    version_path = resolve_task_export(path, task)
    check_whole_archive(version_path / "model.keras")
    quantization = export_metadata(version_path).get("quantization")
    try:
        if quantization in (*QUANTIZED, *CALIBRATED):
            from keras_apps.compress.variants import load_quantized

            return version_path, load_quantized(version_path / "model.keras", quantization)
        model = keras.saving.load_model(version_path / "model.keras", compile=False)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"cannot load {version_path / 'model.keras'}: {str(exc).splitlines()[0]}") from exc
    return version_path, model


def check_not_a_copy(version_path, use):
    """Refuses, in one line, a compressed copy (`compress`'s export of a model in another weight format) where the
    model is to be `use`d as the float32 original it copies: compressed again, or trained further."""
    recorded = export_metadata(version_path)
    if "quantization" in recorded:
        raise UserError(f"{version_path} is a compressed copy ({recorded.get('run_id', recorded['quantization'])}); "
                        f"{use} the export it copies")


def check_whole_archive(path):
    """Refuses a `model.keras` that is not a whole archive (truncated, or a member's bytes changed), which Keras
    would call "not found" or fail on deep inside loading; reads every member's checksum."""
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, EOFError, zlib.error):
        damaged = path.name
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if damaged is not None:
        raise UserError(f"{path} is not a whole .keras archive: the export is damaged; make it again")


def load_serving(path, signature=SERVING_SIGNATURE, *, task=None):
    """Loads an export (checked to be one of `task`, when given, and to hold the files it published) and returns
    `(version_path, the function of its signature named signature)`."""
    import tensorflow_text  # noqa: F401 - registers the ops of the tokenizers that text exports run

    if task is None:
        version_path = resolve_version(path)
        if (version_path / "export.json").is_file():  # not a SavedModel written elsewhere, which records no files
            check_published_files(version_path)
    else:
        version_path = resolve_task_export(path, task)
    check_readable_by_tensorflow(version_path, "cannot load the SavedModel at")
    try:
        loaded = tf.saved_model.load(str(version_path))
    except (OSError, ValueError, tf.errors.OpError) as exc:
        raise UserError(f"cannot load the SavedModel at {version_path}: {str(exc).splitlines()[0]}") from exc
    except IndexError as exc:  # TensorFlow's "Read less bytes than requested" from a truncated variables file
        raise UserError(f"cannot load the SavedModel at {version_path}: its files are damaged ({exc}); make it "
                        "again") from exc
    if signature not in loaded.signatures:
        raise UserError(f"{version_path} has no {signature!r} signature; is it an export of this task?")
    return version_path, loaded.signatures[signature]


def image_probabilities(serve, images, batch_size=1000):
    """Class probabilities of an image classifier's export for `images`, `batch_size` a call, after checking
    they fit its signature."""
    check_inputs(serve, images)
    outputs = [serve(images=images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    return np.concatenate([output["probabilities"].numpy() for output in outputs])


def check_inputs(serving_function, array):
    """Raises a `UserError` unless `array` matches the signature's single input in dtype and shape."""
    (spec,) = serving_function.structured_input_signature[1].values()
    array = np.asarray(array)
    if array.dtype != spec.dtype.as_numpy_dtype:
        raise UserError(f"the model takes {spec.dtype.name} inputs, got {array.dtype}")
    if not spec.shape.is_compatible_with(array.shape):
        expected = "[" + ", ".join("batch" if size is None else str(size) for size in spec.shape) + "]"
        raise UserError(f"the model takes inputs of shape {expected}, got {list(array.shape)}")
