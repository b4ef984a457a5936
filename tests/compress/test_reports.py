"""The report of `variants.export_variants`, the loop of a GPT's and a translator's `compress`
(`keras_apps.compress.reports`): written once whole, naming the export; a damaged export is one line."""

import json
import shutil

import keras
import pytest
import tensorflow as tf

from keras_apps.compress import reports
from keras_apps.compress.variants import export_variants
from keras_apps.errors import UserError
from keras_apps.export.saved_model import export_model
from keras_apps.inference.serving import classifier_endpoint
from keras_apps.models.convnet import build_convnet

IMAGES = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_convnet(filters=(2,), dropout=0.0)
    return export_model(model, tmp_path_factory.mktemp("exports"),
                        {"serving_default": classifier_endpoint(model, IMAGES)}, metadata={"task": "test"})


def compress(export_path, directory, describe=lambda row: "measured"):
    return export_variants(
        export_path, directory, ["float16"], make=lambda model, variant: (model, {}),
        endpoints=lambda model: {"serving_default": classifier_endpoint(model, IMAGES)},
        score=lambda model: {"figure": 1.0},
        table=lambda rows: "### tiny\n\n" + "".join(f"| {row['variant']} |\n" for row in rows),
        describe=describe, export={"metadata": {"task": "test"}})


def test_the_report_is_written_once_whole_and_names_the_export(export, tmp_path):
    def interrupted_after_the_second(row):
        if row["variant"] == "float16":
            raise KeyboardInterrupt
        return "measured"

    with pytest.raises(KeyboardInterrupt):
        compress(export, tmp_path, describe=interrupted_after_the_second)
    assert not list(tmp_path.glob("compression.*"))  # no report of the first row alone, as if whole

    assert [path.name for path in (tmp_path / "float16").iterdir()] == ["1"]  # exported before the interruption
    compress(export, tmp_path)  # the same folder takes the command again
    assert [path.name for path in (tmp_path / "float16").iterdir()] == ["1"]  # the copy measured, none stale beside
    rows = json.loads((tmp_path / "compression.json").read_text())
    assert [row["variant"] for row in rows] == ["float32", "float16"]
    assert {row["export"] for row in rows} == {str(export.resolve())}
    assert (tmp_path / "compression.md").read_text().endswith(f"Export measured: `{export.resolve()}`\n")
    with pytest.raises(UserError, match="already holds a compression report"):
        compress(export, tmp_path)


def test_a_run_interrupted_while_writing_the_report_leaves_a_folder_the_same_command_finishes(
        export, tmp_path, monkeypatch):
    """`compression.json` marks a finished report (`check_no_report`): written before the .md, an interruption
    between the two would leave a folder every rerun refuses."""
    write_text = reports.files.write_text

    def interrupted_at_the_markdown(path, text):
        if path.name == reports.MARKDOWN:
            raise KeyboardInterrupt
        write_text(path, text)

    monkeypatch.setattr(reports.files, "write_text", interrupted_at_the_markdown)
    with pytest.raises(KeyboardInterrupt):
        compress(export, tmp_path)
    assert not (tmp_path / reports.JSON).exists()
    monkeypatch.undo()
    reports.check_no_report(tmp_path)
    compress(export, tmp_path)
    assert (tmp_path / reports.JSON).is_file() and (tmp_path / reports.MARKDOWN).is_file()


def test_a_version_another_run_left_in_a_variants_folder_is_refused_and_kept(export, tmp_path):
    shutil.copytree(export, tmp_path / "float16" / "1")  # not a copy this compression made
    with pytest.raises(UserError, match=r"float16 holds version 1, which is no copy of .* choose another --run-dir"):
        compress(export, tmp_path)
    assert (tmp_path / "float16" / "1" / "saved_model.pb").is_file()
    assert not (tmp_path / "float32.keras").exists()  # refused before any work


def test_a_damaged_model_keras_is_one_line_of_error_and_leaves_no_folder(export, tmp_path):
    damaged = tmp_path / "export"
    shutil.copytree(export, damaged)
    with open(damaged / "model.keras", "r+b") as file:
        file.truncate(1000)
    with pytest.raises(UserError, match=r"model.keras changed since it was exported .*; export the model again$"):
        compress(damaged, tmp_path / "report")
    with pytest.raises(UserError, match="model.keras is not a whole .keras archive: the export is damaged"):
        reports.output_folder("mnist", tmp_path / "compressed", damaged)
    assert not (tmp_path / "compressed").exists()


def test_a_compression_folder_inside_an_export_version_is_refused(export, tmp_path):
    version = tmp_path / "exports" / "1"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")
    for inside in (version, version / "variables" / "compressed"):
        with pytest.raises(UserError, match=f"--run-dir {inside} lies inside the export {version}"):
            reports.output_folder("mnist", inside, export)
    assert sorted(path.name for path in version.iterdir()) == ["saved_model.pb"]
    assert reports.output_folder("mnist", tmp_path / "compressed", export) == tmp_path / "compressed"


def test_a_folder_of_other_files_or_of_another_export_s_compression_is_refused_and_kept(export, tmp_path):
    """Given a project's folder, a compression replaced its files named as the variants (`keras-int8.keras`);
    resumed on another export (a new version published since), its variants and the old ones met in one report."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "keras-int8.keras").write_text("mine")
    with pytest.raises(UserError, match=r"--run-dir .*project holds files that are not a compression's "
                                        r"\(keras-int8.keras\); give a new or empty folder"):
        reports.output_folder("mnist", project, export)
    assert sorted(path.name for path in project.iterdir()) == ["keras-int8.keras"]
    killed = tmp_path / "killed"  # as it claimed the folder: its claim's temporary is the compression's own
    killed.mkdir()
    (killed / ".compressing.json.tmp-0123456789abcdef.json").write_text("")
    assert reports.output_folder("mnist", killed, export) == killed
    folder = reports.output_folder("mnist", tmp_path / "compressed", export)
    (folder / "keras-float32.keras").write_text("a variant of an interrupted run")
    assert reports.output_folder("mnist", folder, export) == folder  # the same compression goes on there
    other = tmp_path / "other"
    shutil.copytree(export, other)
    with pytest.raises(UserError, match=r"--run-dir .*compressed holds a compression of .*, not of .*other; choose "
                                        r"another --run-dir"):
        reports.output_folder("mnist", folder, other)


def test_an_interrupted_compression_names_its_folder_and_a_finished_one_none(export, tmp_path, capsys):
    """`compress` stopped by a Ctrl-C said only "interrupted": the same command again made a new folder, and the
    unfinished one, which only `--run-dir` takes again, was named nowhere."""
    from keras_apps import cli

    def interrupted(argv):
        reports.output_folder("test", tmp_path / "compression folder", export)
        raise KeyboardInterrupt

    def interrupted_once_finished(argv):
        directory = reports.output_folder("test", tmp_path / "finished", export)
        reports.write_report(directory, [], "### tiny\n", export)
        raise KeyboardInterrupt

    assert cli.run(interrupted, []) == 130
    assert capsys.readouterr().err == (f"interrupted; rerun with --run-dir '{tmp_path}/compression folder' to make "
                                       "the compression there\n")
    assert cli.run(interrupted_once_finished, []) == 130 and capsys.readouterr().err == "interrupted\n"
