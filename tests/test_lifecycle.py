import errno
import json
import os
import tempfile
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.export.saved_model import versions
from keras_apps.inference.serving import classifier_endpoint
from keras_apps.lifecycle import Export, fingerprint, require_data, start_run
from keras_apps.training import lora
from keras_apps.training.config import TrainingConfig
from keras_apps.training.run_directory import RunDirectory
from tests.training.helpers import tiny_datasets, tiny_model

CARD = CardText(description="A tiny model.", data="Quadrants.", intended_use="Tests.", limits="Everything.")
IMAGES = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")


def start(tmp_path, **config):
    config = TrainingConfig(**{"epochs": 1, "batch_size": 32, "strategy": "cpu", **config})
    return start_run("tiny", config, run_dir=tmp_path / "run", export_dir=tmp_path / "exports")


def finish(run, result):
    reported = []
    status = run.finish(
        result, "convnet", Export({"serving_default": classifier_endpoint(result.model, IMAGES)},
                                  metadata={"inputs": "images"}),
        CARD, report=reported.append, summary=lambda metrics: f"{metrics['epochs']} epoch(s)",
        test_metrics={"accuracy": 0.5},
    )
    return status, reported


def test_output_folders_that_cannot_be_written_are_refused_before_anything_starts(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    config = TrainingConfig(strategy="cpu")
    with pytest.raises(UserError, match="--export-dir .*file is a file"):
        start_run("tiny", config, run_dir=tmp_path / "run", export_dir=tmp_path / "file" / "exports")
    with pytest.raises(UserError, match="--run-dir .*file is a file"):
        start_run("tiny", config, run_dir=tmp_path / "file" / "run", export_dir=tmp_path / "exports")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("refusal", [errno.EACCES, errno.EROFS], ids=["EACCES", "EROFS"])
def test_output_folders_whose_writes_are_refused_are_refused_before_anything_starts(tmp_path, monkeypatch, refusal):
    """As root, a folder's modes refuse nothing: a refused write (a read-only mount, an ACL) is what is asked."""
    def refused(*args, **kwargs):
        raise OSError(refusal, os.strerror(refusal))

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    config = TrainingConfig(strategy="cpu")
    with pytest.raises(UserError, match=f"^--run-dir .*run is not writable: {os.strerror(refusal)}$"):
        start_run("tiny", config, run_dir=tmp_path / "run", export_dir=tmp_path / "exports")
    with pytest.raises(UserError, match=f"^--export-dir .*exports is not writable: {os.strerror(refusal)}$"):
        start_run("tiny", config, run_dir=None, export_dir=tmp_path / "exports")
    assert list(tmp_path.iterdir()) == []


def test_a_finished_runs_folder_is_refused_before_anything_starts(tmp_path):
    finished = RunDirectory.create("tiny", tmp_path / "run")
    finished.write_metrics({"task": "tiny"})
    with pytest.raises(UserError, match="--run-dir .*run holds a finished run"):
        start_run("tiny", TrainingConfig(strategy="cpu"), run_dir=finished.path, export_dir=tmp_path / "exports")


def test_an_export_folder_holding_another_tasks_exports_is_refused_before_anything_starts(tmp_path):
    config = TrainingConfig(strategy="cpu")
    exports = tmp_path / "exports"
    (exports / "1").mkdir(parents=True)
    (exports / "1" / "export.json").write_text(json.dumps({"task": "mnist", "version": 1}))
    with pytest.raises(UserError, match="holds exports of the 'mnist' task; give the 'tiny' export a folder of its"):
        start_run("tiny", config, run_dir=tmp_path / "run", export_dir=exports)
    (exports / "2").mkdir()  # the latest version decides: a folder this suite did not write is refused too
    with pytest.raises(UserError, match="holds version 2, not an export of this suite"):
        start_run("tiny", config, run_dir=tmp_path / "run", export_dir=exports)
    (exports / "2" / "export.json").write_text(json.dumps({"task": "gpt", "version": 2}))
    start_run("tiny-policy", config, run_dir=tmp_path / "run", export_dir=exports, export_task="gpt")
    assert not (tmp_path / "run").exists()


def test_an_export_folder_holding_another_kind_of_the_task_s_exports_is_refused_before_anything_starts(tmp_path):
    """A Spanish-to-English translator's version in the English-to-Spanish folder would become its latest, which
    `translate` and the demo's tab go on sending English sentences: a wrong answer for every one."""
    config = TrainingConfig(strategy="cpu")
    exports = tmp_path / "translate"
    (exports / "1").mkdir(parents=True)
    (exports / "1" / "export.json").write_text(json.dumps({"task": "translate", "direction": "en-es"}))
    start_run("translate", config, run_dir=None, export_dir=exports, export_kind={"direction": "en-es"})
    with pytest.raises(UserError, match=f"--export-dir {exports} holds translate exports of direction 'en-es'; "
                                        f"give this one \\(direction 'es-en'\\) a folder of its own, e.g. "
                                        f"{exports}-es-en$"):
        start_run("translate", config, run_dir=tmp_path / "run", export_dir=exports,
                  export_kind={"direction": "es-en"})
    assert not (tmp_path / "run").exists()


def test_a_run_of_no_kind_into_a_folder_of_a_kind_of_the_task_s_exports_is_refused(tmp_path):
    """An SFT model or a plain GPT exported into a DPO policy's folder would hide the policy from `evaluate` and
    `gpt generate`, which would serve the untuned model under the policy's name."""
    exports = tmp_path / "rlhf-dpo"
    (exports / "1").mkdir(parents=True)
    (exports / "1" / "export.json").write_text(json.dumps({"task": "gpt", "tuned_by": "rlhf-dpo"}))
    with pytest.raises(UserError, match=f"--export-dir {exports} holds gpt exports of tuned_by 'rlhf-dpo'; give "
                                        f"this one \\(no tuned_by\\) a folder of its own$"):
        start_run("gpt", TrainingConfig(strategy="cpu"), run_dir=tmp_path / "run", export_dir=exports)
    assert not (tmp_path / "run").exists()


def test_an_export_of_another_kind_published_while_the_run_trained_is_not_hidden_by_this_one(tmp_path, capsys):
    """Two runs started at once on an empty folder both passed the check at their start: an English-to-Spanish
    translator's version published beside a Spanish-to-English one's hid it from everything reading the latest."""
    config = TrainingConfig(epochs=1, batch_size=32, strategy="cpu")
    run = start_run("tiny", config, run_dir=tmp_path / "run", export_dir=tmp_path / "exports",
                    export_kind={"direction": "es-en"})
    run.open({"model": "convnet"})
    result = run.fit(tiny_model, *tiny_datasets(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    (tmp_path / "exports" / "1").mkdir(parents=True)  # the other run's, published meanwhile
    (tmp_path / "exports" / "1" / "export.json").write_text(json.dumps({"task": "tiny", "direction": "en-es"}))
    with pytest.raises(UserError, match=r"holds tiny exports of direction 'en-es'; .* \(published by another run "
                                        r"while this one trained; .* run the same command with another --export-dir"):
        finish(run, result)
    assert versions(tmp_path / "exports") == [1] and not list((tmp_path / "exports").glob(".export-*"))
    rerun = start_run("tiny", config, run_dir=tmp_path / "run", export_dir=tmp_path / "exports-es-en",
                      export_kind={"direction": "es-en"})
    rerun.open({"model": "convnet"})
    result = rerun.fit(tiny_model, *tiny_datasets(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert "Training ended in an earlier attempt" in capsys.readouterr().out
    assert finish(rerun, result)[0] == 0 and versions(tmp_path / "exports-es-en") == [1]


def test_output_folders_inside_a_published_export_version_are_refused_before_anything_starts(tmp_path):
    config = TrainingConfig(strategy="cpu")
    version = tmp_path / "exports" / "1"
    version.mkdir(parents=True)
    (version / "export.json").write_text(json.dumps({"task": "tiny", "version": 1}))
    for inside in (version, version / "run"):
        with pytest.raises(UserError, match=f"--run-dir {inside} lies inside the export {version}: a published "
                                            "version is never written into$"):
            start_run("tiny", config, run_dir=inside, export_dir=tmp_path / "exports")
    with pytest.raises(UserError, match=f"--export-dir {version} lies inside the export {version}: .*; --export-dir "
                                        f"takes the folder of versions, e.g. {version.parent}"):
        start_run("tiny", config, run_dir=tmp_path / "run", export_dir=version)
    assert sorted(path.name for path in version.iterdir()) == ["export.json"] and not (tmp_path / "run").exists()


def test_a_run_folder_is_resumed_only_with_the_settings_it_was_started_with(tmp_path, capsys):
    run = start(tmp_path)
    run.open({"model": "convnet", "data": fingerprint("abc")})
    assert not run.resumed
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n0,1.5\n")  # its training began
    again = start(tmp_path)
    again.open({"model": "convnet", "data": fingerprint("abc")})
    assert again.resumed and "Resuming the interrupted run" in capsys.readouterr().out

    with pytest.raises(UserError, match=r"started with other settings: data '.*' \(now '.*'\)"):
        start(tmp_path).open({"model": "convnet", "data": fingerprint("other text")})
    with pytest.raises(UserError, match=r"batch_size 32 \(now 64\)"):
        start(tmp_path, batch_size=64).open({"model": "convnet", "data": fingerprint("abc")})
    another = start_run("tiny-other", TrainingConfig(epochs=1, batch_size=32, strategy="cpu"),
                        run_dir=tmp_path / "run", export_dir=tmp_path / "other-exports")
    with pytest.raises(UserError, match="holds an unfinished run of 'tiny', not of 'tiny-other'; rerun that command"):
        another.open({"model": "convnet", "data": fingerprint("abc")})
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    assert recorded["data"] == fingerprint("abc") and recorded["batch_size"] == 32  # refusals changed nothing


def test_a_folder_where_training_never_began_starts_over_with_other_settings(tmp_path, capsys):
    """Its settings and what it learned from its data are all it holds: a start with other settings learns them
    again, as a new run (its own identity), where a folder whose training began refuses them."""
    def vocabulary(run, text):
        return run.learned_once("vocabulary.txt", lambda: text, lambda value, path: path.write_text(value),
                                lambda path: path.read_text())

    first = start(tmp_path)
    first.open({"model": "convnet", "context": 128})
    assert vocabulary(first, "learned with 128") == "learned with 128"
    again = start(tmp_path)
    again.open({"model": "convnet", "context": 16})
    assert not again.resumed and again.identity != first.identity
    assert "Starting over in" in capsys.readouterr().out
    assert vocabulary(again, "learned with 16") == "learned with 16"  # learned again, not read back
    assert json.loads((tmp_path / "run" / "config.json").read_text())["context"] == 16
    (tmp_path / "run" / "backup").mkdir()  # its training began: the folder now resumes, or refuses
    with pytest.raises(UserError, match=r"started with other settings: context 16 \(now 128\)"):
        start(tmp_path).open({"model": "convnet", "context": 128})


def test_an_artifact_is_learned_once_and_read_back_on_resume(tmp_path):
    calls = []

    def learn():
        calls.append(1)
        return "the vocabulary"

    def save(value, path):
        path.write_text(value)

    for _ in range(2):
        run = start(tmp_path)
        run.open({"model": "convnet"})
        assert run.learned_once("vocabulary.txt", learn, save, lambda path: path.read_text()) == "the vocabulary"
    assert len(calls) == 1


def test_an_artifact_changed_after_it_was_learned_is_refused_on_resume(tmp_path):
    def learned(run):
        return run.learned_once("vocabulary.txt", lambda: "the vocabulary", lambda value, path: path.write_text(value),
                                lambda path: path.read_text())

    run = start(tmp_path)
    run.open({"model": "convnet"})
    learned(run)
    (tmp_path / "run" / "learned.json").unlink()  # as if killed after saving, before recording: whole, recorded now
    run = start(tmp_path)
    run.open({"model": "convnet"})
    assert learned(run) == "the vocabulary" and (tmp_path / "run" / "learned.json").exists()
    (tmp_path / "run" / "vocabulary.txt").write_text("another run's vocabulary")
    run = start(tmp_path)
    run.open({"model": "convnet"})
    with pytest.raises(UserError, match=r"vocabulary.txt changed after this run learned it .*give a new --run-dir"):
        learned(run)


def test_an_artifact_deleted_and_learned_again_is_read_back_on_resume(tmp_path):
    def learned(text):
        run = start(tmp_path)
        run.open({"model": "convnet"})
        return run.learned_once("vocabulary.txt", lambda: text, lambda value, path: path.write_text(value),
                                lambda path: path.read_text())

    learned("the vocabulary")
    (tmp_path / "run" / "vocabulary.txt").unlink()
    assert learned("the vocabulary learned again") == "the vocabulary learned again"
    assert learned("not learned: read back") == "the vocabulary learned again"


def test_finish_exports_with_the_card_inside_then_writes_metrics_last(tmp_path, capsys):
    run = start(tmp_path)
    run.open({"model": "convnet", "train_examples": 64})
    result = run.fit(tiny_model, *tiny_datasets(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    status, reported = finish(run, result)
    version = tmp_path / "exports" / "1"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert status == 0 and metrics["export"] == str(version) and reported == [metrics]
    card = (version / "MODEL_CARD.md").read_text()
    assert "| accuracy | 0.5000 |" in card
    assert "## This run's data\n\n- training examples: 64\n" in card  # from what the run recorded
    exported = json.loads((version / "export.json").read_text())
    assert exported["task"] == "tiny" and exported["run"] == str(tmp_path / "run") and exported["version"] == 1
    assert capsys.readouterr().out.endswith(f"1 epoch(s)\nrun: {tmp_path / 'run'}\nexport: {version}\n")


def test_a_new_run_in_a_deleted_runs_folder_publishes_its_own_export_and_a_resumed_one_finds_its_own(tmp_path):
    """The run, not its folder's path, owns an export: the same path reused after `rm -rf` is a new run."""
    import shutil

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def attempt():
        run = start(tmp_path)
        run.open({"model": "convnet"})
        return run, run.fit(tiny_model, *tiny_datasets(), loss=loss)

    run, result = attempt()
    finish(run, result)
    shutil.rmtree(tmp_path / "run")
    run, result = attempt()
    finish(run, result)
    assert versions(tmp_path / "exports") == [1, 2]
    identities = [json.loads((tmp_path / "exports" / v / "export.json").read_text())["run_id"] for v in "12"]
    assert identities[0] != identities[1] == run.identity
    (tmp_path / "run" / "metrics.json").unlink()  # killed after publishing, before its metrics: rerun
    rerun, result = attempt()
    assert rerun.identity == run.identity and finish(rerun, result)[0] == 0
    assert versions(tmp_path / "exports") == [1, 2]


def test_a_lora_run_trains_the_adapters_alone_and_ends_merged_also_when_training_ended_earlier(tmp_path, capsys):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    results = []
    for _ in range(2):  # the second attempt finds the training ended and reads its adapted model back
        run = start(tmp_path)
        run.open({"model": "convnet"})
        results.append(run.fit(tiny_model, *tiny_datasets(), loss=loss, metrics=["accuracy"], lora_rank=2))
    assert "Training ended in an earlier attempt" in capsys.readouterr().out
    adapters = sum(np.size(weight) for weight in lora.enable(tiny_model(), 2).trainable_weights)
    first, again = results
    assert first.trainable_params == again.trainable_params == adapters < first.model.count_params() / 2
    plain = tiny_model()
    for trained in (first.model, again.model):  # merged: the plain model's weights, no adapter, ready to evaluate
        assert [weight.path for weight in trained.weights] == [weight.path for weight in plain.weights]
        assert 0 <= trained.evaluate(tiny_datasets()[1], return_dict=True, verbose=0)["accuracy"] <= 1
    for mine, theirs in zip(first.model.weights, again.model.weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-6)


def test_a_run_killed_after_publishing_does_not_publish_twice(tmp_path):
    run = start(tmp_path)
    run.open({"model": "convnet"})
    result = run.fit(tiny_model, *tiny_datasets(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    finish(run, result)
    (tmp_path / "run" / "metrics.json").unlink()  # as if killed between the export and the last file

    rerun = start(tmp_path)
    rerun.open({"model": "convnet"})
    result = rerun.fit(tiny_model, *tiny_datasets(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    finish(rerun, result)
    assert versions(tmp_path / "exports") == [1]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["export"] == str(tmp_path / "exports" / "1")


def test_a_folder_of_the_user_s_own_files_is_refused_not_emptied(tmp_path, capsys):
    """A run that starts afresh in its folder empties it: given a project's folder by mistake, its code and notes
    went (or an export folder's published versions, or a `.git`)."""
    project = tmp_path / "run"
    (project / "src").mkdir(parents=True)
    (project / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"--run-dir .*run holds files that are not a run's \(notes.txt, src\); give "
                                        r"a new or empty folder"):
        start(tmp_path)
    (project / "config.json").write_text(json.dumps({"editor": {"tabs": 4}}))
    with pytest.raises(UserError, match="--run-dir .*run has a config.json that is not a run's; give a new"):
        start(tmp_path)
    assert sorted(path.name for path in project.iterdir()) == ["config.json", "notes.txt", "src"]
    killed = tmp_path / "killed" / "run"  # an attempt killed before it wrote its settings left its lock alone
    killed.mkdir(parents=True)
    (killed / ".lock").write_text("process 1 on host\n")
    (killed / ".config.json.tmp-3b4de7ac58dcf8a4.json").write_text("")  # killed as it wrote them, its settings too
    start(killed.parent).open({"model": "convnet"})


def test_a_run_folder_with_a_damaged_record_is_refused_in_one_line(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{truncated")
    with pytest.raises(UserError, match="unreadable config.json"):
        start(tmp_path).open({"model": "convnet"})
    (tmp_path / "run" / "config.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="has a config.json that is not a run's"):
        start(tmp_path)


def test_a_run_folder_whose_run_id_is_no_string_is_refused_before_training(tmp_path):
    """Its export is published under the run's identity: read back as it was, the run trained, then failed."""
    start(tmp_path).open({"model": "convnet"})
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    (tmp_path / "run" / "config.json").write_text(json.dumps({**recorded, "run_id": [1]}))
    with pytest.raises(UserError, match=r"unreadable config.json \(its run_id \[1\] is not a string\); give a new"):
        start(tmp_path).open({"model": "convnet"})


def test_an_export_folder_whose_path_tensorflow_reads_as_a_pattern_is_refused_before_anything_starts(tmp_path):
    """TensorFlow globs a SavedModel's variables path: an export under `e [1]` was published but never loadable."""
    with pytest.raises(UserError, match=r"^--export-dir .*e \[1\]: TensorFlow cannot read a SavedModel under a path "
                                        r"holding '\[' or '\]'; use a path without them$"):
        start_run("tiny", TrainingConfig(strategy="cpu"), run_dir=tmp_path / "run", export_dir=tmp_path / "e [1]")
    assert not any(tmp_path.iterdir())


def test_a_run_folder_inside_the_export_folder_is_refused_before_anything_starts(tmp_path):
    """TF Serving would serve a run folder named by a number as the export's newest version while the run trains."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (tmp_path / "link").symlink_to(exports)
    for inside in (exports / "2", exports / "runs" / "a", exports, tmp_path / "link" / "2"):
        with pytest.raises(UserError, match=f"^--run-dir {inside} lies inside --export-dir {exports}, the folder of "
                                            "published versions; give a --run-dir outside it$"):
            start_run("tiny", TrainingConfig(strategy="cpu"), run_dir=inside, export_dir=exports)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["exports", "link"] and not any(exports.iterdir())


def test_data_of_one_batch_and_some_validation_is_enough_and_less_is_refused():
    require_data(32, 1, 32, "examples")  # exactly one batch trains
    with pytest.raises(UserError, match="^31 training examples are fewer than one batch of 32$"):
        require_data(31, 1, 32, "examples")
    with pytest.raises(UserError, match=r"^no examples are left for validation: give more training data"):
        require_data(64, 0, 32, "examples")


def test_another_tasks_folder_whose_training_never_began_is_refused_not_started_over(tmp_path):
    """Starting over empties the folder: what another command learned there is not this one's to delete."""
    first = start(tmp_path)
    first.open({"model": "convnet"})
    first.learned_once("vocabulary.txt", lambda: "learned", lambda value, path: path.write_text(value),
                       lambda path: path.read_text())
    other = start_run("tiny-other", TrainingConfig(epochs=1, batch_size=32, strategy="cpu"),
                      run_dir=tmp_path / "run", export_dir=tmp_path / "other-exports")
    with pytest.raises(UserError, match="holds an unfinished run of 'tiny', not of 'tiny-other'; rerun that command"):
        other.open({"model": "convnet"})
    assert (tmp_path / "run" / "vocabulary.txt").read_text() == "learned"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["task"] == "tiny"


def test_a_run_whose_settings_hold_tuples_resumes(tmp_path, capsys):
    """Settings are compared as they read back from config.json, where a tuple is a list."""
    run = start(tmp_path)
    run.open({"model": "convnet", "image_shape": (28, 28), "data": fingerprint("abc")})
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n0,1.5\n")  # its training began
    again = start(tmp_path)
    again.open({"model": "convnet", "image_shape": (28, 28), "data": fingerprint("abc")})
    assert again.resumed and again.identity == run.identity
    assert "Resuming the interrupted run" in capsys.readouterr().out


def test_a_refusal_of_many_changed_settings_names_three_and_counts_the_rest(tmp_path):
    start(tmp_path).open({"model": "convnet", "a": 1, "b": 1, "c": 1, "d": 1, "e": 1})
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n0,1.5\n")
    with pytest.raises(UserError, match=r"other settings: a 1 \(now 2\), b 1 \(now 2\), c 1 \(now 2\) and 2 more; "):
        start(tmp_path).open({"model": "convnet", "a": 2, "b": 2, "c": 2, "d": 2, "e": 2})


def test_metrics_and_export_record_the_test_figures_and_the_time_of_training_and_report(tmp_path):
    run = start(tmp_path)
    run.open({"model": "convnet"})
    result = run.fit(tiny_model, *tiny_datasets(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    reported = []

    def report(metrics):
        reported.append(json.loads(json.dumps(metrics)))
        time.sleep(0.05)

    run.finish(result, "convnet", Export({"serving_default": classifier_endpoint(result.model, IMAGES)}), CARD,
               report=report, summary=lambda metrics: "", test_metrics={"accuracy": 0.5})
    exported = json.loads((tmp_path / "exports" / "1" / "export.json").read_text())
    assert exported["test"] == {"accuracy": 0.5}
    phases = json.loads((tmp_path / "run" / "metrics.json").read_text())["time"]["phases"]
    assert {"tracing and compilation", "export", "report"} <= set(phases)
    assert "report" not in reported[0]["time"]["phases"]
