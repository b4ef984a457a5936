import hashlib
import json

from keras_apps.demo.catalog import TABS, Served, find


def write_export(path, metadata):
    path.mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"")
    (path / "model.keras").write_bytes(b"")
    (path / "export.json").write_text(json.dumps(metadata))


def test_each_tab_serves_its_task_s_latest_whole_export_or_says_why_not(tmp_path):
    write_export(tmp_path / "mnist" / "1", {"task": "mnist", "test": {"accuracy": 0.9}})
    write_export(tmp_path / "mnist" / "2", {"task": "mnist", "test": {"accuracy": 0.99, "loss": 0.031}})
    write_export(tmp_path / "imdb" / "1", {"task": "gpt"})  # a foreign export in the wrong folder
    write_export(tmp_path / "gpt" / "1", {"task": "gpt", "validation": {"loss": 1.5, "perplexity": 4.48}})
    served = {entry.tab.task: entry for entry in find(tmp_path)}
    assert [entry.tab.task for entry in find(tmp_path)] == [tab.task for tab in TABS]
    assert served["mnist"].path == tmp_path / "mnist" / "2"
    assert served["mnist"].figures == "test accuracy 0.99, loss 0.031"
    assert served["gpt"].figures == "validation loss 1.5, perplexity 4.48"
    assert served["imdb"].path is None and "an export of the 'gpt' task, not of 'imdb'" in served["imdb"].problem
    assert served["translate"] == Served(served["translate"].tab)  # none: the tab names its command
    assert served["translate"].tab.command == "python -m tasks.translate"


def test_a_task_folder_that_exists_but_holds_no_export_says_so(tmp_path):
    (tmp_path / "speech").mkdir()  # e.g. a training run that never published a version
    (tmp_path / "speech" / "notes.txt").write_text("")
    served = {entry.tab.task: entry for entry in find(tmp_path)}
    assert served["speech"].path is None and "holds no SavedModel" in served["speech"].problem
    assert served["mnist"] == Served(served["mnist"].tab)  # no folder at all: simply no export


def test_a_tab_does_not_serve_another_kind_of_its_task_s_export(tmp_path):
    """The translation tab takes English sentences: a Spanish-to-English export would answer each wrongly."""
    write_export(tmp_path / "translate" / "1", {"task": "translate", "direction": "es-en"})
    served = {entry.tab.task: entry for entry in find(tmp_path)}["translate"]
    assert served.path is None and served.problem.endswith("1 is an export of direction 'es-en', not 'en-es'")
    write_export(tmp_path / "translate" / "2", {"task": "translate", "direction": "en-es"})
    assert {entry.tab.task: entry for entry in find(tmp_path)}["translate"].path == tmp_path / "translate" / "2"


def test_the_figures_shown_are_the_test_split_s_when_both_are_recorded_and_numbers_only(tmp_path):
    write_export(tmp_path / "mnist" / "1", {
        "task": "mnist", "validation": {"accuracy": 0.95}, "test": {"accuracy": 0.93, "note": "x", "per_class": [1]}})
    assert {entry.tab.task: entry for entry in find(tmp_path)}["mnist"].figures == "test accuracy 0.93"


def test_a_translation_export_that_records_no_direction_is_not_served(tmp_path):
    write_export(tmp_path / "translate" / "1", {"task": "translate"})
    served = {entry.tab.task: entry for entry in find(tmp_path)}["translate"]
    assert served.path is None and served.problem.endswith("1 is an export of direction None, not 'en-es'")


def test_an_export_that_lacks_its_model_or_whose_files_changed_is_not_served(tmp_path):
    empty = hashlib.sha256(b"").hexdigest()  # what write_export writes into each file
    write_export(tmp_path / "mnist" / "1", {"task": "mnist", "files_sha256": {"saved_model.pb": empty,
                                                                              "model.keras": empty}})
    (tmp_path / "mnist" / "1" / "model.keras").unlink()
    served = {entry.tab.task: entry for entry in find(tmp_path)}["mnist"]
    assert served.path is None and "has no model.keras: the export is incomplete" in served.problem
    (tmp_path / "mnist" / "1" / "model.keras").write_bytes(b"another export's model")
    served = {entry.tab.task: entry for entry in find(tmp_path)}["mnist"]
    assert served.path is None and "model.keras changed since it was exported" in served.problem
