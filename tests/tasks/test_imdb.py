"""`python -m tasks.imdb`: its commands and errors on a tiny IMDB archive (in this process, fast), and one
end-to-end run on a slice of the real reviews (fresh processes, as a user runs them)."""

import json
import shutil
from pathlib import Path

import keras
import pytest

from keras_apps import files
from keras_apps.data import imdb, locate
from keras_apps.models.bert import build_bert_backbone
from keras_apps.text.vocabulary import RESERVED_TOKENS, build_tokenizer, learn_vocabulary
from keras_apps.text_classification import pretraining
from keras_apps.text_classification.backbones import save_backbone
from keras_apps.training.run_directory import RunDirectory
from tasks import imdb as task
from tests.conftest import (
    TINY_IMDB_SIZES, TINY_REVIEWS, run_cli, run_python, stop_at, write_imdb_archive, write_tiny_imdb,
)
from tests.evaluate.html_check import check_page
from tests.training.helpers import InterruptMidEpoch

SMALL = ["--epochs", "1", "--batch-size", "8", "--sequence-length", "24"]
WORDPIECES = ["--vocabulary-size", "200"]  # for the models that learn a WordPiece vocabulary


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.fixture
def tiny_imdb(tmp_path, monkeypatch):
    """A small archive in the real layout (`tests.conftest.write_tiny_imdb`), with `imdb.SIZES` set to its sizes."""
    write_tiny_imdb(tmp_path)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_APPS_DATA", str(tmp_path))
    monkeypatch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
    return tmp_path


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"], ["compress"], ["explain"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.imdb" in out


@pytest.mark.parametrize("argv, message", [
    (["--model", "gpt"], "argument --model: invalid choice"),
    (["--sequence-length", "0"], "argument --sequence-length: must be at least 1, got 0"),
    (["--preset", "bert_tiny_en_uncased"], "apply to --model bert only"),
    (["--model", "bert", "--preset", "x", "--pretrained-backbone", "y"], "not both"),
    (["--lora-rank", "8"], "--lora-rank apply to --model bert only"),
    (["--model", "bert", "--lora-rank", "0"], "argument --lora-rank: must be at least 1, got 0"),
    (["--model", "bert", "--from-scratch", "--lora-rank", "8"],
     "--lora-rank adapts pre-trained weights; --from-scratch has none"),
    (["--model", "bow", "--teacher", "nb-bow"], "--teacher applies to --model lstm, transformer and bert only"),
    (["--model", "transformer", "--teacher", "lstm"], "argument --teacher: invalid choice"),
    (["--model", "transformer", "--unlabeled-examples", "0"], "leaves the teacher nothing to label"),
    (["--model", "bow", "--unlabeled-examples", "100"], "--model bow reads no unlabeled reviews"),
    (["--model", "transformer", "--teacher", "none", "--unlabeled-examples", "100"], "reads no unlabeled reviews"),
    (["--model", "lstm", "--blocks", "explained"], "--blocks applies to --model transformer only"),
    (["--vocabulary-size", "300"], "--vocabulary-size: an n-gram model learns no WordPiece vocabulary"),
    (["--model", "bert", "--pretrained-backbone", "runs/x/backbone", "--vocabulary-size", "300"],
     "--vocabulary-size: the backbone brings its own vocabulary"),
    (["--model", "transformer", "--blocks", "torch"], "argument --blocks: invalid choice"),
    (["--model", "transformer", "--pretrain-epochs", "2"], "--pretrain-epochs: this run pre-trains nothing"),
    (["--model", "bert", "--pretrained-backbone", "runs/x/backbone", "--pretrain-batch-size", "8"],
     "--pretrain-batch-size: this run pre-trains nothing"),
    (["--model", "bert", "--from-scratch", "--pretrain-epochs", "2"], "--pretrain-epochs: this run pre-trains nothing"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err.strip().splitlines()[-1]  # argparse's usage, then the one reason


def test_missing_and_corrupt_archives_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(locate, "_download", lambda remote, directory: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KERAS_APPS_DATA", raising=False)
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and err.startswith("error: aclImdb_v1.tar.gz not found") and err.count("\n") == 1
    (tmp_path / "aclImdb_v1.tar.gz").write_bytes(b"\x1f\x8b\x08 not really gzip")
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and err.startswith("error:") and err.count("\n") == 1


def test_offline_preset_is_one_clear_line(tiny_imdb, capsys):
    status, _, err = run_task(["--model", "bert", "--preset", "bert_tiny_en_uncased", *SMALL,
                               "--run-dir", str(tiny_imdb / "run")], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "cannot load the keras-hub preset 'bert_tiny_en_uncased'" in err and "network" in err


@pytest.mark.parametrize("model", ["bow", "nb-bow", "lstm", "transformer"])
def test_train_exports_a_model_that_reads_raw_text(model, tiny_imdb, capsys):
    exports = tiny_imdb / "exports"
    explain = ["--explain-examples", "1"] if model == "transformer" else []
    wordpieces = WORDPIECES if model in ("lstm", "transformer") else []
    status, out, err = run_task(["--model", model, *SMALL, *wordpieces, "--run-dir", str(tiny_imdb / "run"),
                                 "--export-dir", str(exports), *explain], capsys)
    assert status == 0, err
    metrics = json.loads((tiny_imdb / "run" / "metrics.json").read_text())
    assert metrics["model"] == model
    # RLHF's judge check reads the teacher an export learned from (keras_apps.preference.stages)
    exported = json.loads((exports / "1" / "export.json").read_text())
    assert exported["teacher"] == ("nb-bow" if model == "transformer" else "none")
    report = (tiny_imdb / "run" / "report.md").read_text()
    assert ("Explanations by integrated gradients, LIME and SHAP" in report) == bool(explain)
    assert not explain or all(f"{method}, " in report for method in ("IG", "LIME", "SHAP"))
    if model == "nb-bow":  # its naive-Bayes weights read the tiny reviews' keywords after one epoch (chance: 0.5)
        assert metrics["test"]["accuracy"] > 0.75
    if model in ("lstm", "transformer"):
        assert (tiny_imdb / "run" / "vocabulary.txt").is_file() and (exports / "1" / "vocabulary.txt").is_file()
        assert metrics["extra"]["sequence_length"] == 24
    if model == "transformer":  # It learns from an nb-bow teacher's verdicts on the unlabeled reviews too.
        teacher = json.loads((tiny_imdb / "run" / "teacher" / "unlabeled_probabilities.json").read_text())
        assert len(teacher["probabilities"]) == TINY_IMDB_SIZES["unsup"]
        assert all(0 <= p <= 1 for p in teacher["probabilities"])
        assert metrics["extra"]["teacher"]["model"] == "nb-bow"
        assert metrics["extra"]["teacher"]["unlabeled_reviews"] == TINY_IMDB_SIZES["unsup"]
        config = json.loads((tiny_imdb / "run" / "config.json").read_text())
        assert config["classifier"]["teacher"] == "nb-bow"
        assert config["unlabeled_examples"] == TINY_IMDB_SIZES["unsup"]
        metrics_file = tiny_imdb / "run" / "metrics.json"
        finished = metrics_file.read_bytes()
        metrics_file.unlink()  # as if killed before its last file: resumed only with the blocks it was trained with
        status, _, err = run_task(["--model", model, *SMALL, *wordpieces, "--run-dir", str(tiny_imdb / "run"),
                                   "--export-dir", str(exports), *explain, "--blocks", "explained"], capsys)
        assert status == 2 and "started with other settings: classifier" in err and "'blocks': 'keras-hub'" in err
        metrics_file.write_bytes(finished)

    status, _, err = run_task(["predict", "A wonderful film.", "", "--export-dir", str(exports)], capsys)
    assert status == 2 and "argument 2 is blank" in err  # the export answers "" (tests/export); the command asks
    status, out, _ = run_task(["predict", "A wonderful film.", "Dull.", "--export-dir", str(exports)], capsys)
    lines = out.strip().splitlines()
    assert status == 0 and len(lines) == 2 and lines[0].split()[0] in ("positive", "negative")
    status, out, _ = run_task(["evaluate", "--export-dir", str(exports)], capsys)
    assert status == 0 and f"test accuracy {metrics['test']['accuracy']:.4f}" in out
    assert out.startswith("48/48 - ") and "/review\n" in out  # scoring shows its progress, as fit does
    status, _, err = run_task(["evaluate", "--export-dir", str(exports), "--test-examples", "49"], capsys)
    assert status == 2 and "--test-examples 49: there are only 48 reviews in IMDB's test split" in err

    # The run's report, the export's model card, and an explanation of one review.
    text, images = check_page((tiny_imdb / "run" / "report.html").read_text())
    assert "Most confident mistakes" in text and len(images) == 3  # curves, confusion matrix, reliability
    assert metrics["evaluation"]["class_names"] == ["negative", "positive"]
    assert f"| accuracy | {metrics['test']['accuracy']:.4f} |" in (exports / "1" / "MODEL_CARD.md").read_text()
    page = tiny_imdb / "why.html"
    status, out, err = run_task(["explain", "A wonderful film, superb acting.", "--export-dir", str(exports),
                                 "--output", str(page), "--steps", "16"], capsys)
    assert status == 0, err
    text, _ = check_page(page.read_text())
    assert "wonderful" in text and "completeness gap" in out
    status, out, err = run_task(["explain", "A wonderful film, superb acting.", "--export-dir", str(exports),
                                 "--output", str(page), "--method", "shap", "--samples", "200"], capsys)
    assert status == 0 and "SHAP, " in out and "SHAP, " in page.read_text()


def test_compress_quantizes_the_network_of_a_text_export(tiny_imdb, capsys):
    exports = tiny_imdb / "exports"
    status, _, err = run_task(["--model", "bow", *SMALL, "--run-dir", str(tiny_imdb / "run"),
                               "--export-dir", str(exports)], capsys)
    assert status == 0, err
    status, _, err = run_task(["compress", "--export-dir", str(exports), "--run-dir", str(tiny_imdb / "compress"),
                               "--test-examples", "49"], capsys)
    assert status == 2 and "--test-examples 49: there are only 48 reviews" in err
    assert not (tiny_imdb / "compress").exists()
    status, out, err = run_task(["compress", "--export-dir", str(exports), "--run-dir", str(tiny_imdb / "compress"),
                                 "--representative-examples", "8"], capsys)
    assert status == 0, err
    rows = json.loads((tiny_imdb / "compress" / "compression.json").read_text())
    assert [row["variant"] for row in rows] == [
        "keras-float32", "keras-int8", "litert-float32", "litert-dynamic-range", "litert-float16", "litert-int8"
    ]
    metrics = json.loads((tiny_imdb / "run" / "metrics.json").read_text())
    assert rows[0]["test_accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert rows[2]["test_accuracy"] == rows[0]["test_accuracy"]
    assert rows[-1]["size_bytes"] < rows[2]["size_bytes"]
    for row in rows[2:]:  # The vectorizer's vocabulary stays in TensorFlow, out of the LiteRT files.
        assert b"wonderful" not in (tiny_imdb / "compress" / row["file"]).read_bytes()


def test_explain_needs_a_review_and_an_export(tmp_path, capsys):
    status, _, err = run_task(["explain", "--export-dir", str(tmp_path)], capsys)
    assert status == 2 and "give a review to explain" in err
    status, _, err = run_task(["explain", "Fine.", "--export-dir", str(tmp_path / "none")], capsys)
    assert status == 2 and "does not exist" in err and err.count("\n") == 1


def test_predict_needs_reviews_and_readable_files(tmp_path, capsys):
    status, _, err = run_task(["predict", "--export-dir", str(tmp_path)], capsys)
    assert status == 2 and "give reviews" in err
    status, _, err = run_task(["predict", "--file", str(tmp_path / "missing.txt")], capsys)
    assert status == 2 and "cannot read" in err


def test_predict_prints_each_batch_s_answers_as_it_is_scored(tmp_path, capsys, monkeypatch):
    """A file of 25,000 reviews takes a BERT export over a minute: the first answers show in a second or two."""
    import tensorflow as tf

    from keras_apps.export import saved_model

    printed_before = []

    def serve(texts):
        printed_before.append(capsys.readouterr().out.count("\n"))
        return {"probability": tf.fill(tf.shape(texts), 0.75)}

    monkeypatch.setattr(saved_model, "load_serving", lambda *args, **kwargs: (tmp_path, serve))
    (tmp_path / "reviews.txt").write_text("Fine.\n" * 1200)
    status, _, err = run_task(["predict", "--file", str(tmp_path / "reviews.txt")], capsys)
    assert status == 0, err
    assert printed_before == [0, 500, 500]  # each batch of 500 answered before the next is scored


@pytest.mark.real_data
def test_end_to_end_on_a_slice_of_the_real_reviews(real_imdb_dir, tmp_path):
    exports = tmp_path / "saved_models" / "imdb"
    env = {"KERAS_APPS_DATA": str(real_imdb_dir)}
    trained = run_python("-m", "tasks.imdb", "--train-examples", "4000", "--test-examples", "2000", "--epochs", "3",
                         "--run-dir", str(tmp_path / "run"), "--export-dir", str(exports), env=env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["model"] == task.DEFAULT_MODEL and metrics["test"]["accuracy"] > 0.8  # chance is 0.5

    evaluated = run_python("-m", "tasks.imdb", "evaluate", "--test-examples", "2000", "--export-dir", str(exports),
                           env=env)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert f"test accuracy {metrics['test']['accuracy']:.4f}" in evaluated.stdout

    (tmp_path / "reviews.txt").write_text(
        "One of the best films I have ever seen: moving, funny and beautifully acted.\n\n"
        "A boring, stupid mess. The worst movie of the year; I walked out.\n"
    )
    predicted = run_python("-m", "tasks.imdb", "predict", "--file", str(tmp_path / "reviews.txt"),
                           "--export-dir", str(exports))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    lines = predicted.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["positive", "negative"]


def _press_ctrl_c():
    raise KeyboardInterrupt


def test_an_interrupted_pretraining_resumes_where_it_stopped(tiny_imdb, capsys, monkeypatch):
    run = tiny_imdb / "run"
    common = ["--model", "bert", *SMALL, "--no-jit-compile", "--export-dir", str(tiny_imdb / "exports")]
    # A saved backbone brings its vocabulary and is not pre-trained again: no WORDPIECES, no --pretrain-* flags.
    bert = [*common, "--pretrain-epochs", "2", "--pretrain-batch-size", "8", *WORDPIECES, "--run-dir", str(run)]
    real_fit = pretraining.fit
    monkeypatch.setattr(pretraining, "fit", lambda *args, **kwargs: real_fit(
        *args, **kwargs, callbacks=[InterruptMidEpoch(1, _press_ctrl_c)]))
    status, _, err = run_task(bert, capsys)
    assert status == 130 and f"rerun with --run-dir {run} to resume it" in err
    history = RunDirectory(run / "pretraining")
    assert [row["epoch"] for row in history.read_history()] == [0] and history.is_resumable

    monkeypatch.setattr(pretraining, "fit", real_fit)
    status, out, err = run_task(bert, capsys)
    assert status == 0, err
    assert f"Resuming the interrupted run in {run}" in out
    assert "Pre-training BERT (masked LM) on 60 texts" in out  # 16 unlabeled + 44 train: no validation, no test
    assert [row["epoch"] for row in history.read_history()] == [0, 1] and not history.is_resumable
    figures = json.loads((run / "metrics.json").read_text())["extra"]["pretraining"]
    assert figures["epochs"] == 2 and not figures["jit_compile"]  # --no-jit-compile reaches pre-training too
    assert figures["sequence_length"] == 24  # the shorter of the run's length and pre-training's 128
    saved = json.loads((run / "backbone" / "config.json").read_text())["config"]
    assert saved["dropout"] == 0.0 and saved["max_sequence_length"] == 24  # pre-trained without dropout

    # Another run fine-tunes the saved backbone, without pre-training again (its figures travel with it), through
    # rank-4 LoRA adapters: they and the new head train, the export is plain.
    status, out, err = run_task([*common, "--run-dir", str(tiny_imdb / "lora"), "--pretrained-backbone",
                                 str(run / "backbone"), "--lora-rank", "4"], capsys)
    assert status == 0 and "Merging the rank-4 LoRA adapters" in out and "Pre-training" not in out, err
    metrics = json.loads((tiny_imdb / "lora" / "metrics.json").read_text())
    assert metrics["extra"]["pretraining"]["masked_accuracy"] == figures["masked_accuracy"]
    head = 2 * 128 + 1  # the logit reads the mean and the max of the tokens' 128-wide vectors
    assert head < metrics["trainable_params"] < metrics["params"] / 10
    exported = keras.saving.load_model(Path(metrics["export"]) / "model.keras", compile=False)
    assert not any("lora" in weight.path for weight in exported.weights)
    status, out, _ = run_task(["predict", "A wonderful film.", "--export-dir", metrics["export"]], capsys)
    assert status == 0 and out.startswith(("positive", "negative"))


def test_a_resumed_run_refuses_a_backbone_pretrained_again_in_place(tiny_imdb, capsys):
    """Every attempt reads --pretrained-backbone's folder again: one pre-trained again since the run started (a
    vocabulary of the same size, other subwords) would pair its vocabulary with the weights trained on the old."""
    backbone, run = tiny_imdb / "backbone", tiny_imdb / "run"
    vocabulary = learn_vocabulary([text for text, _ in TINY_REVIEWS] * 20, 100)
    reserved = len(RESERVED_TOKENS)

    def pretrain(subwords):  # a new tiny backbone in the same folder, as a second pre-training writes it
        shutil.rmtree(backbone, ignore_errors=True)
        save_backbone(build_bert_backbone(len(subwords), 24, num_layers=1, num_heads=2, hidden_dim=16,
                                          intermediate_dim=32), build_tokenizer(subwords), backbone)

    pretrain(vocabulary)
    bert = ["--model", "bert", *SMALL, "--teacher", "none", "--pretrained-backbone", str(backbone),
            "--run-dir", str(run), "--export-dir", str(tiny_imdb / "exports")]
    status, _, err = run_task(bert, capsys)
    assert status == 0, err
    started_from = files.digest(backbone)[:16]
    (run / "metrics.json").unlink()  # as if killed after training, before its last file
    pretrain(vocabulary[:reserved] + vocabulary[reserved:][::-1])
    status, _, err = run_task(bert, capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert f"backbone_digest {started_from!r} (now " in err and "give a new --run-dir" in err


def test_too_few_reviews_to_validate_on_is_refused_before_training(tiny_imdb, capsys):
    status, _, err = run_task(["--model", "bow", "--train-examples", "3", "--batch-size", "1", "--epochs", "1",
                               "--run-dir", str(tiny_imdb / "run")], capsys)
    assert status == 2 and "no reviews are left for validation" in err and err.count("\n") == 1
    assert not (tiny_imdb / "run").exists()


def test_a_backbone_that_cannot_serve_stops_the_run_before_its_teacher_trains(tiny_imdb, capsys):
    """The backbone is read before the nb-bow teacher's training and verdicts, not after them."""
    vocabulary = learn_vocabulary([text for text, _ in TINY_REVIEWS] * 20, 100)
    save_backbone(build_bert_backbone(len(vocabulary) - 10, 24, num_layers=1, num_heads=2, hidden_dim=16,
                                      intermediate_dim=32), build_tokenizer(vocabulary), tiny_imdb / "backbone")
    status, _, err = run_task(["--model", "bert", *SMALL, "--pretrained-backbone", str(tiny_imdb / "backbone"),
                               "--run-dir", str(tiny_imdb / "run")], capsys)
    assert status == 2 and "more than the" in err and err.count("\n") == 1, err
    assert not (tiny_imdb / "run" / "teacher").exists()


def test_train_passes_its_data_flags_to_the_splits(tiny_imdb, capsys, monkeypatch):
    """--validation-fraction, --seed, --train-examples, --test-examples and --unlabeled-examples shape the data."""
    called = stop_at(imdb, "run_splits", monkeypatch)
    status, _, err = run_task(["--model", "transformer", "--validation-fraction", "0.3", "--seed", "7",
                               "--train-examples", "40", "--test-examples", "20", "--unlabeled-examples", "5",
                               "--run-dir", str(tiny_imdb / "run")], capsys)
    assert status == 2 and "stopped here by the test" in err
    assert called["kwargs"] == dict(validation_fraction=0.3, seed=7, train_examples=40, test_examples=20,
                                    unlabeled=True, unlabeled_examples=5)


def test_predict_labels_each_review_by_its_own_probability(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    from keras_apps.export import saved_model

    def serve(texts):  # P(positive) high for a review that says "good", low otherwise
        return {"probability": tf.where(tf.strings.regex_full_match(texts, ".*good.*"), 0.9, 0.1)}

    monkeypatch.setattr(saved_model, "load_serving", lambda *args, **kwargs: (tmp_path, serve))
    status, out, err = run_task(["predict", "A good film.", "A dull film."], capsys)
    assert status == 0, err
    assert out.splitlines() == ["positive 0.900  A good film.", "negative 0.100  A dull film."]


def _tell_the_splits_apart(directory):
    """The tiny archive again, each test review marked as one (its train and test splits hold the same texts)."""
    import tarfile

    path = directory / "aclImdb_v1.tar.gz"
    with tarfile.open(path) as archive:
        reviews = {member.name.removeprefix("aclImdb/"): archive.extractfile(member).read().decode()
                   for member in archive.getmembers() if member.isfile()}
    write_imdb_archive(path, {name: f"{TEST_MARK} {text}" if name.startswith("test/") else text
                              for name, text in reviews.items()})


TEST_MARK = "Seen in testing only."


def test_evaluate_scores_the_test_reviews(tiny_imdb, capsys, monkeypatch):
    """The export is evaluated on the test split, never on the reviews it was trained on, and --test-examples
    draws that many of them."""
    import tensorflow as tf

    from keras_apps.export import saved_model

    scored = []

    def serve(texts):
        scored.extend(text.decode() for text in texts.numpy())
        return {"probability": tf.fill(tf.shape(texts), 0.5)}

    monkeypatch.setattr(saved_model, "load_serving", lambda *args, **kwargs: (tiny_imdb, serve))
    _tell_the_splits_apart(tiny_imdb)
    status, out, err = run_task(["evaluate", "--test-examples", "10"], capsys)
    assert status == 0, err
    assert len(scored) == 10 and all(text.startswith(TEST_MARK) for text in scored) and "on 10 reviews" in out


def test_compress_calibrates_on_training_reviews_and_measures_on_test_ones(tiny_imdb, capsys, monkeypatch):
    """int8's representative reviews come from the training split (never from the reviews it is measured on);
    --test-examples and --seed reach the subject."""
    from keras_apps.export import saved_model
    from keras_apps.text_classification import exports

    monkeypatch.setattr(saved_model, "resolve_task_export", lambda path, task: tiny_imdb / "exports" / "1")
    called = stop_at(exports, "network_subject", monkeypatch)
    _tell_the_splits_apart(tiny_imdb)
    status, _, err = run_task(["compress", "--test-examples", "12", "--seed", "3", "--representative-examples",
                               "5", "--run-dir", str(tiny_imdb / "compress")], capsys)
    assert status == 2 and "stopped here by the test" in err
    data = imdb.load(None)
    _, task_name, test, representative, timing = called["args"]
    assert task_name == "imdb" and len(test) == 12 and all(text.startswith(TEST_MARK) for text in test.texts)
    assert list(representative) == list(data.train.texts) and not any(TEST_MARK in text for text in representative)
    assert called["kwargs"] == dict(representative_examples=5, seed=3)


def test_explain_refuses_a_review_and_a_file_together(tmp_path, capsys):
    """Either would be explained; the other silently not."""
    (tmp_path / "review.txt").write_text("A dull film.\n")
    status, _, err = run_task(["explain", "A wonderful film.", "--file", str(tmp_path / "review.txt"),
                               "--export-dir", str(tmp_path), "--output", str(tmp_path / "why.html")], capsys)
    assert status == 2 and "give a review or --file, not both" in err and err.count("\n") == 1
    assert not (tmp_path / "why.html").exists()
