import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.export.saved_model import (
    check_export_root, check_inputs, export_model, load_keras_model, load_serving, resolve_task_export,
    resolve_version, versions,
)
from keras_apps.inference.serving import classifier_endpoint
from keras_apps.models.convnet import build_convnet
from tests.conftest import run_python

IMAGES = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_convnet(filters=(4,), dropout=0.0)


def export(model, root, **kwargs):
    return export_model(model, root, {"serving_default": classifier_endpoint(model, IMAGES)},
                        metadata={"task": "test"}, **kwargs)


def recorded_before_digests(version):
    """`version` as exports were recorded before their files' digests were: its `export.json` lacks them."""
    recorded = json.loads((version / "export.json").read_text())
    del recorded["files_sha256"]
    (version / "export.json").write_text(json.dumps(recorded))
    return version


def test_versions_count_up_and_carry_the_keras_file(model, tmp_path):
    first, second = export(model, tmp_path), export(model, tmp_path)
    assert (first.name, second.name) == ("1", "2") and versions(tmp_path) == [1, 2]
    assert sorted(item.name for item in tmp_path.iterdir()) == ["1", "2"]  # nothing else left beside them
    assert (second / "saved_model.pb").is_file() and (second / "model.keras").is_file()
    recorded = json.loads((second / "export.json").read_text())
    digests = recorded.pop("files_sha256")
    assert recorded == {"version": 2, "task": "test"}
    published = sorted(path.relative_to(second).as_posix() for path in second.rglob("*")
                       if path.is_file() and path.name != "export.json")
    assert sorted(digests) == published and {"model.keras", "saved_model.pb", "variables/variables.index"} <= {*digests}
    assert digests["model.keras"] == hashlib.sha256((second / "model.keras").read_bytes()).hexdigest()
    assert resolve_version(tmp_path) == second


def test_a_damaged_keras_file_is_named_as_damaged_not_missing(model, tmp_path):
    version = recorded_before_digests(export(model, tmp_path))
    assert load_keras_model(tmp_path, "test")[1].count_params() == model.count_params()
    with open(version / "model.keras", "r+b") as file:
        file.truncate(1000)
    with pytest.raises(UserError, match=r"model.keras is not a whole .keras archive: the export is damaged"):
        load_keras_model(tmp_path, "test")


def test_a_keras_file_with_changed_weight_bytes_is_refused_not_loaded(model, tmp_path):
    version = recorded_before_digests(export(model, tmp_path))
    with zipfile.ZipFile(version / "model.keras") as archive:
        weights = archive.getinfo("model.weights.h5")
    with open(version / "model.keras", "r+b") as file:  # one byte in the middle of the weights member's data
        file.seek(weights.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", file.read(4))
        file.seek(weights.header_offset + 30 + name_length + extra_length + weights.compress_size // 2)
        byte = file.read(1)
        file.seek(-1, 1)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(UserError, match=r"model.keras is not a whole .keras archive: the export is damaged"):
        load_keras_model(tmp_path, "test")


def test_a_failed_export_leaves_earlier_versions_and_no_debris(model, tmp_path, monkeypatch):
    good = export(model, tmp_path)
    before = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))

    def fail(self, filepath, **kwargs):  # the SavedModel is written by now; the .keras file fails
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        export(model, tmp_path)
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")) == before
    assert resolve_version(tmp_path) == good


def test_fresh_process_reload_gives_the_in_memory_outputs(model, tmp_path):
    path = export(model, tmp_path / "exports")
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    completed = run_python("tests/export/reload_and_predict.py", str(path), str(tmp_path / "images.npy"),
                           str(tmp_path / "outputs.npz"))
    assert completed.returncode == 0, completed.stderr[-2000:]
    outputs = np.load(tmp_path / "outputs.npz")
    expected = tf.nn.softmax(model(images, training=False)).numpy()
    np.testing.assert_allclose(outputs["probabilities"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(outputs["class"], expected.argmax(-1))


def test_saved_model_cli_lists_the_serving_signature(model, tmp_path):
    cli = str(Path(sys.executable).parent / "saved_model_cli")
    path = export(model, tmp_path)
    shown = subprocess.run([cli, "show", "--dir", str(path), "--tag_set", "serve", "--signature_def",
                            "serving_default"], capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "dtype: DT_UINT8" in shown.stdout and "shape: (-1, 28, 28)" in shown.stdout
    assert "outputs['probabilities']" in shown.stdout and "outputs['class']" in shown.stdout


def test_inputs_are_checked_against_the_signature(model, tmp_path):
    _, serve = load_serving(export(model, tmp_path))
    check_inputs(serve, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(UserError, match="takes uint8 inputs, got float32"):
        check_inputs(serve, np.zeros((2, 28, 28), np.float32))
    with pytest.raises(UserError, match=r"shape \[batch, 28, 28\], got \[2, 32, 32\]"):
        check_inputs(serve, np.zeros((2, 32, 32), np.uint8))


def test_the_reloaded_signature_refuses_images_of_the_wrong_shape(model, tmp_path):
    serve = tf.saved_model.load(str(export(model, tmp_path))).signatures["serving_default"]
    assert serve(images=tf.zeros((2, 28, 28), tf.uint8))["class"].shape == [2]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,28,28,1\] is not compatible"):
        serve(images=tf.zeros((2, 28, 28, 1), tf.uint8))


def test_the_reloaded_signature_answers_an_empty_batch(tmp_path):
    model = build_convnet(filters=(4, 8), dropout=0.0)  # the second convolution is what fails on no images
    serve = tf.saved_model.load(str(export(model, tmp_path))).signatures["serving_default"]
    empty = serve(images=tf.zeros((0, 28, 28), tf.uint8))
    assert empty["probabilities"].shape == (0, 10) and empty["class"].shape == (0,)


def test_a_truncated_variables_file_is_named_as_damaged(model, tmp_path):
    version = recorded_before_digests(export(model, tmp_path))
    (data,) = (version / "variables").glob("variables.data-*")
    with open(data, "r+b") as file:
        file.truncate(data.stat().st_size // 2)
    with pytest.raises(UserError, match=f"the SavedModel at {re.escape(str(version))}: its files are damaged"):
        load_serving(tmp_path)


def test_missing_and_empty_export_directories(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_serving(tmp_path / "nowhere")
    with pytest.raises(UserError, match="holds no SavedModel"):
        load_serving(tmp_path)


@pytest.mark.parametrize("record", ['{"task": "mnist"', '["mnist"]', '"mnist"'])
def test_an_export_record_that_is_not_a_json_object_is_one_line(tmp_path, record):
    from keras_apps.export.saved_model import resolve_task_export

    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "1" / "export.json").write_text(record)
    with pytest.raises(UserError, match="has no readable export.json: it is not an export of this suite"):
        resolve_task_export(tmp_path, "mnist")


@pytest.mark.parametrize("kind", [None, {"tuned_by": "rlhf-dpo"}])
def test_a_training_run_never_publishes_into_a_folder_of_compressed_copies(model, tmp_path, kind):
    """A float32 model published as `int8/2` would be served as the int8 copy by everything that loads the latest
    version; the copy records its original's kind (`tuned_by`, or none for a plain GPT), so only its quantization
    tells it apart. `compress`, which exports copies with no kind, still publishes there."""
    copies = tmp_path / "int8"
    copy = {"task": "test", **(kind or {}), "quantization": "int8"}
    export_model(model, copies, {"serving_default": classifier_endpoint(model, IMAGES)}, metadata=copy)
    refusal = f"--export-dir {copies} holds compressed copies \\(int8\\) made by compress; export this run elsewhere"
    with pytest.raises(UserError, match=refusal):
        check_export_root(copies, "test", kind)
    with pytest.raises(UserError, match=refusal):
        export_model(model, copies, {"serving_default": classifier_endpoint(model, IMAGES)},
                     metadata={"task": "test", **(kind or {})}, kind=("test", kind))
    again = export_model(model, copies, {"serving_default": classifier_endpoint(model, IMAGES)}, metadata=copy)
    assert again.name == "2" and versions(copies) == [1, 2]


def test_a_folder_of_versions_is_checked_against_its_latest_one(tmp_path):
    """What loads the folder serves its latest version: an older one of this kind does not make the folder this
    kind's."""
    for version, recorded in ((1, {"task": "translate", "direction": "en-es"}),
                              (2, {"task": "translate", "direction": "es-en"})):
        (tmp_path / str(version)).mkdir()
        (tmp_path / str(version) / "export.json").write_text(json.dumps(recorded))
    check_export_root(tmp_path, "translate", {"direction": "es-en"})
    with pytest.raises(UserError, match="holds translate exports of direction 'es-en'; give this one"):
        check_export_root(tmp_path, "translate", {"direction": "en-es"})


def test_an_export_under_a_path_tensorflow_reads_as_a_pattern_is_refused_naming_the_brackets(model, tmp_path):
    """TensorFlow globs the variables' path: the export is whole, but `e [1]/1/variables/variables` matches nothing."""
    export(model, tmp_path / "e")
    (tmp_path / "e").rename(tmp_path / "e [1]")
    with pytest.raises(UserError, match=rf"^cannot load the SavedModel at {re.escape(str(tmp_path))}/e \[1\]/1: "
                                        r"TensorFlow cannot read a SavedModel under a path holding '\[' or '\]'"):
        load_serving(tmp_path / "e [1]")


def refused_in_one_line(version, name, problem):
    """The pattern of the one-line refusal naming `version/name` (`check_published_files`)."""
    return f"^{re.escape(str(version / name))} {re.escape(problem)}$"


def test_a_keras_file_swapped_in_from_another_export_is_refused(model, tmp_path):
    """The SavedModel would answer `predict`, the other export's Keras model `explain`, under one headline."""
    version = export(model, tmp_path / "a")
    other = export(build_convnet(filters=(2,), dropout=0.0), tmp_path / "b")
    shutil.copyfile(other / "model.keras", version / "model.keras")
    refusal = refused_in_one_line(version, "model.keras", "changed since it was exported (it is not the file this "
                                                          "export published); export the model again")
    for load in (lambda: load_keras_model(tmp_path / "a", "test"), lambda: load_serving(tmp_path / "a", task="test"),
                 lambda: load_serving(tmp_path / "a")):
        with pytest.raises(UserError, match=refusal):
            load()


@pytest.mark.parametrize("change, problem", [
    (lambda side: side.write_text("other words\n"),
     "changed since it was exported (it is not the file this export published); export the model again"),
    (lambda side: side.unlink(), "is missing (this export published it); export the model again"),
], ids=["changed", "removed"])
def test_a_side_file_changed_or_removed_since_the_export_is_refused(model, tmp_path, change, problem):
    """A side file (n-grams, a tokenizer) read beside the model labels or tokenizes as the export's own."""
    (tmp_path / "ngrams.txt").write_text("good\nbad\n")
    version = export(model, tmp_path / "exports", files_to_copy=[tmp_path / "ngrams.txt"])
    change(version / "ngrams.txt")
    with pytest.raises(UserError, match=refused_in_one_line(version, "ngrams.txt", problem)):
        resolve_task_export(tmp_path / "exports", "test")


def test_a_side_file_added_since_the_export_is_refused(model, tmp_path):
    """A reader that uses a side file where one exists (a bag of words' `ngrams.txt`) would use one put there."""
    version = export(model, tmp_path)
    (version / "ngrams.txt").write_text("good\nbad\n")
    with pytest.raises(UserError, match=refused_in_one_line(version, "ngrams.txt", "was added since it was exported "
                                                            "(this export did not publish it); remove it")):
        resolve_task_export(tmp_path, "test")


def test_a_hidden_file_or_tf_serving_s_warm_up_requests_added_are_no_change(model, tmp_path):
    version = export(model, tmp_path)
    (version / ".DS_Store").write_bytes(b"Bud1")  # a file manager's
    (version / "variables" / ".DS_Store").write_bytes(b"Bud1")
    (version / "assets.extra").mkdir()  # where TF Serving reads a version's warm-up requests
    (version / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"requests")
    assert resolve_task_export(tmp_path, "test") == version


def test_a_version_whose_folder_is_a_link_to_the_same_files_is_read(model, tmp_path):
    version = export(model, tmp_path / "exports")
    linked = tmp_path / "linked" / "1"
    shutil.copytree(version, linked, ignore=shutil.ignore_patterns("variables"))
    (linked / "variables").symlink_to(version / "variables", target_is_directory=True)
    assert resolve_task_export(linked, "test") == linked


def test_a_variables_file_of_the_same_shape_changed_since_the_export_is_refused_not_served(model, tmp_path):
    version = export(model, tmp_path)
    (data,) = (version / "variables").glob("variables.data-*")
    with open(data, "r+b") as file:  # one weight's byte: the same size, loadable, other answers
        file.seek(data.stat().st_size // 2)
        byte = file.read(1)
        file.seek(-1, 1)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(UserError, match=refused_in_one_line(version, f"variables/{data.name}", "changed since it was "
                                                            "exported (it is not the file this export published); "
                                                            "export the model again")):
        load_serving(tmp_path, task="test")


@pytest.mark.parametrize("recorded_as", [lambda version: version, recorded_before_digests],
                         ids=["untouched", "recorded-before-digests"])
def test_an_untouched_export_and_one_recorded_before_digests_load(model, tmp_path, recorded_as):
    version = recorded_as(export(model, tmp_path))
    assert load_keras_model(tmp_path, "test")[1].count_params() == model.count_params()
    assert load_serving(tmp_path, task="test")[0] == load_serving(tmp_path)[0] == version
