"""`python -m tasks.translate`: commands and errors in this process, and a short run on a slice of the real
pairs whose export a fresh process uses, as a user runs it."""

import json
import re

import pytest
from PIL import Image

from bench import translate as bench_translate
from keras_apps.demo.answers import TranslationAnswers
from keras_apps.errors import UserError
from tasks import translate as task
from tests.conftest import TINY_PAIRS, run_cli, run_python, write_spa_eng_zip
from tests.evaluate.html_check import check_page

TINY = ["--num-layers", "1", "--num-heads", "2", "--hidden-dim", "64", "--intermediate-dim", "128",
        "--vocabulary-size", "2000", "--batch-size", "64"]


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.mark.parametrize("command", [[], ["train"], ["translate"], ["attention"], ["compress"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.translate" in out


@pytest.mark.parametrize("argv, message", [
    (["--direction", "en-fr"], "argument --direction: invalid choice"),
    (["--beam-size", "0"], "argument --beam-size: must be at least 1, got 0"),
    (["--dropout", "1"], "argument --dropout: must be in [0, 1), got 1.0"),
    (["translate", "Hello", "--export-dir", "/nonexistent/export"], "export directory /nonexistent/export does not"),
    (["translate", "--export-dir", "/nonexistent/export"], "give sentences to translate"),
    (["attention", " ", "--export-dir", "/nonexistent/export"], "give a sentence to translate"),  # before the export
    (["compress", "--modes", "gptq"], "argument --modes: invalid choice: 'gptq'"),
    (["compress", "--export-dir", "/nonexistent/export"], "export directory /nonexistent/export does not"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err.strip().splitlines()[-1]


@pytest.mark.parametrize("content, message", [(None, "spa-eng.zip not found"), (b"PK\x03\x04 truncated", "corrupt")])
def test_a_missing_or_corrupt_zip_is_one_line(tmp_path, capsys, monkeypatch, content, message):
    monkeypatch.delenv("KERAS_APPS_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.keras/datasets copy either
    monkeypatch.setattr("keras_apps.data.locate._download", lambda remote, directory: (_ for _ in ()).throw(
        OSError("no network")))
    if content is not None:
        (tmp_path / "spa-eng.zip").write_bytes(content)
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_impossible_model_shape_is_one_line(tmp_path, capsys):
    write_spa_eng_zip(tmp_path / "spa-eng.zip", TINY_PAIRS * 10)
    status, _, err = run_task(["--data-dir", str(tmp_path), "--hidden-dim", "10", "--num-heads", "4",
                               "--vocabulary-size", "100", "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and err == "error: --hidden-dim 10 is not a multiple of --num-heads 4\n"
    assert not (tmp_path / "run").exists()  # refused before the data is read


@pytest.mark.real_data
def test_a_short_run_on_real_pairs_learns_reports_exports_and_translates(real_spa_eng_dir, tmp_path, capsys):
    export_dir = tmp_path / "export"
    status, out, err = run_task(["--data-dir", str(real_spa_eng_dir), *TINY, "--train-pairs", "4000", "--epochs", "3",
                                 "--test-sentences", "60", "--run-dir", str(tmp_path / "run"),
                                 "--export-dir", str(export_dir)], capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["test"]) == {"bleu", "rouge1_f1", "rouge2_f1", "masked_accuracy", "loss"}
    # The scores of the 60 sentences translated, the teacher-forced accuracy of every test pair: each says which.
    assert re.search(r"on 60 test sentences, masked token accuracy [\d.]+ on all [\d,]{6} test pairs \|", out)
    assert metrics["extra"]["test_sentences"] == 60 and metrics["extra"]["bleu_signature"].startswith("nrefs:")
    row = bench_translate.translate_row("default", metrics, wall_seconds=1.0)  # the benchmark reads these figures
    assert row["bleu"] == metrics["test"]["bleu"] and set(row["decoding"]) == {"1", "64"}
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    header = history[0].split(",")
    accuracies = [float(line.split(",")[header.index("val_masked_accuracy")]) for line in history[1:]]
    # Predicting the most frequent target token scores 0.058; this run measured 0.158 and BLEU 7.9 on its 60
    # test sentences (bench/NOTES.md).
    assert accuracies[-1] > accuracies[0] and metrics["test"]["masked_accuracy"] > 0.12
    assert metrics["test"]["bleu"] > 4
    text, images = check_page((tmp_path / "run" / "report.html").read_text())
    assert "Sample translations" in text and "Decoding speed" in text and len(images) == 2  # curves, attention
    assert (export_dir / "1" / "source_vocabulary.txt").is_file() and (export_dir / "1" / "MODEL_CARD.md").is_file()

    sentences = ["I like coffee.", "Where is Tom?"]
    in_process = [run_task(["translate", *sentences, "--export-dir", str(export_dir)], capsys) for _ in range(2)]
    assert in_process[0][0] == 0 and in_process[0][1] == in_process[1][1]
    assert len(in_process[0][1].splitlines()) == 2
    (tmp_path / "sentences.txt").write_text("\n".join(sentences) + "\n")
    fresh = run_python("-m", "tasks.translate", "translate", "--file", str(tmp_path / "sentences.txt"),
                       "--export-dir", str(export_dir))
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert fresh.stdout == in_process[0][1]

    status, out, _ = run_task(["attention", "Where is Tom?", "--output", str(tmp_path / "map.png"),
                               "--export-dir", str(export_dir)], capsys)
    assert status == 0 and out.splitlines()[0] == in_process[0][1].splitlines()[1]  # the same translation
    with Image.open(tmp_path / "map.png") as image:
        assert image.format == "PNG"


def test_train_translate_and_draw_attention_on_a_written_tiny_dataset(tmp_path, capsys):
    """The success path without the real data: a spa-eng.zip of short numbered pairs, a tiny model."""
    pairs = [(f"{english} {number}", f"{spanish} {number}") for number in range(12) for english, spanish in TINY_PAIRS]
    write_spa_eng_zip(tmp_path / "spa-eng.zip", pairs)
    exports = tmp_path / "exports"
    status, out, err = run_task(["--data-dir", str(tmp_path), "--num-layers", "1", "--num-heads", "2",
                                 "--hidden-dim", "16", "--intermediate-dim", "32", "--vocabulary-size", "300",
                                 "--batch-size", "16", "--epochs", "2", "--beam-size", "1", "--test-sentences", "8",
                                 "--run-dir", str(tmp_path / "run"), "--export-dir", str(exports)], capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["extra"]["test_sentences"] == 8 and metrics["export"] == str(exports / "1")
    assert [row["batch_size"] for row in metrics["extra"]["decoding"]["batches"]] == [1, 64]
    status, _, err = run_task(["--direction", "es-en", "--data-dir", str(tmp_path), "--export-dir", str(exports),
                               "--run-dir", str(tmp_path / "es-en")], capsys)  # its version would be the latest
    assert status == 2 and "holds translate exports of direction 'en-es'" in err and not (tmp_path / "es-en").exists()
    long = " ".join(["Hi. 3"] * 20)  # 60 tokens, past the 48 the model reads: its translation is of a part
    status, translated, err = run_task(["translate", "Hi. 3", "Go. 4", long, "--export-dir", str(exports)], capsys)
    assert status == 0 and len(translated.splitlines()) == 3
    err_of_long = "note: sentence 3 is 60 tokens long; the model reads its first 48, and the rest is not translated\n"
    assert err == err_of_long
    (tmp_path / "lines.txt").write_text("Hi. 3\n\nGo. 4\n")  # a file's blank line keeps its place in the answer
    status, by_line, _ = run_task(["translate", "--file", str(tmp_path / "lines.txt"), "--export-dir",
                                   str(exports)], capsys)
    assert status == 0 and by_line.split("\n") == [*translated.splitlines()[:1], "", translated.splitlines()[1], ""]
    tab = TranslationAnswers(exports, tmp_path)  # what the demo's translation tab serves
    answer = tab.answer("Hi. 3")
    assert answer.translation == translated.splitlines()[0] and answer.attention_map.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(UserError, match="the sentence is 60 tokens long and the model reads 48"):
        tab.answer(long)  # the page has no place for the command line's note: a part is not shown as the whole
    status, out, _ = run_task(["attention", "Hi. 3", "--output", str(tmp_path / "map.png"),
                               "--export-dir", str(exports)], capsys)
    assert status == 0 and (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    status, _, err = run_task(["attention", long, "--output", str(tmp_path / "long.png"), "--export-dir",
                               str(exports)], capsys)  # the map of a part, said so as `translate` says it
    assert status == 0 and err == err_of_long.replace("sentence 3", "sentence 1")

    compressed = tmp_path / "compressed"
    status, _, err = run_task(["compress", "--data-dir", str(tmp_path), "--test-sentences", "1000", "--export-dir",
                               str(exports), "--run-dir", str(compressed)], capsys)
    assert status == 2 and "--test-sentences 1,000: there are only" in err and not compressed.exists()
    (tmp_path / "reshuffled").mkdir()  # the file updated since: its test split holds sentences the export learned
    write_spa_eng_zip(tmp_path / "reshuffled" / "spa-eng.zip", pairs[::-1])
    status, _, err = run_task(["compress", "--data-dir", str(tmp_path / "reshuffled"), "--test-sentences", "8",
                               "--export-dir", str(exports), "--run-dir", str(compressed)], capsys)
    assert status == 2 and "is not the one the export at" in err and not compressed.exists()
    status, out, err = run_task(["compress", "--data-dir", str(tmp_path), "--test-sentences", "8", "--modes",
                                 "int8", "--export-dir", str(exports), "--run-dir", str(compressed)], capsys)
    assert status == 0, err
    rows = json.loads((compressed / "compression.json").read_text())
    assert [row["variant"] for row in rows] == ["float32", "int8"]  # float32, the yardstick, always
    assert rows[0]["bleu"] == pytest.approx(metrics["test"]["bleu"])  # float32: the export's own, same sentences
    assert all(row["decoding_tokens_per_second_batch64"] > 0 for row in rows)
    assert rows[1]["size_bytes"] < rows[0]["size_bytes"] and len(rows[1]["quantized_layers"]) > 0
    assert "| int8 |" in (compressed / "compression.md").read_text()
    translate_int8 = ["translate", "Hi. 3", "Go. 4", "--export-dir", str(compressed / "int8")]
    status, in_process, _ = run_task(translate_int8, capsys)
    fresh = run_python("-m", "tasks.translate", *translate_int8)
    assert status == 0 and fresh.returncode == 0, fresh.stderr[-3000:]
    assert fresh.stdout == in_process and len(in_process.splitlines()) == 2
    card = (compressed / "int8" / "1" / "MODEL_CARD.md").read_text()  # its own figures, the original's named so
    assert card.startswith("# Model card: a int8 copy of") and f"| bleu | {rows[1]['bleu']:,.4f} |" in card
    assert "## Model card: translate" in card and "the original's, measured before compression" in card
    status, _, err = run_task(["attention", "Hi. 3", "--output", str(tmp_path / "int8.png"), "--export-dir",
                               str(compressed / "int8")], capsys)  # its Keras model reloads, 8-bit kernels and all
    assert status == 0 and (tmp_path / "int8.png").read_bytes()[:4] == b"\x89PNG", err
    status, _, err = run_task(["compress", "--data-dir", str(tmp_path / "reshuffled"), "--test-sentences", "8",
                               "--export-dir", str(compressed / "int8"), "--run-dir", str(tmp_path / "again")],
                              capsys)  # what is wrong first: a copy, whatever data is given
    assert status == 2 and "is a compressed copy (" in err and "; compress the export it copies" in err
    assert not (tmp_path / "again").exists()


def test_pairs_too_few_to_split_are_refused_before_training(tmp_path, capsys):
    write_spa_eng_zip(tmp_path / "spa-eng.zip", TINY_PAIRS[:2])
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and "each split needs at least one" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_translate_answers_every_sentence_when_there_are_more_than_one_batch(tmp_path, capsys, monkeypatch):
    """Sentences go to the export in batches of `TRANSLATE_BATCH` (the export stubbed: it upper-cases): every
    sentence gets its line, in order, whatever the batch it fell in."""
    import tensorflow as tf

    from keras_apps.export import saved_model
    from keras_apps.inference import translation

    batches = []

    def serve(sentences):
        batches.append(int(sentences.shape[0]))
        return {"translations": tf.strings.upper(sentences)}

    monkeypatch.setattr(saved_model, "load_serving", lambda path, signature, task: (tmp_path, serve))
    monkeypatch.setattr(translation, "note_cut_sentences", lambda path, sentences: None)
    sentences = [f"sentence {number}" for number in range(2 * task.TRANSLATE_BATCH + 3)]
    (tmp_path / "many.txt").write_text("\n".join(sentences) + "\n")
    status, out, err = run_task(["translate", "--file", str(tmp_path / "many.txt"), "--export-dir", str(tmp_path)],
                                capsys)
    assert status == 0, err
    assert out.splitlines() == [sentence.upper() for sentence in sentences]
    assert max(batches) <= task.TRANSLATE_BATCH and sum(batches) == len(sentences)


def test_training_scores_the_test_split_and_serves_the_beam_size_asked_for(tmp_path, capsys, monkeypatch):
    """The teacher-forced figures are the test pairs' of the fixed split, and the function that translates (and is
    exported) decodes with --beam-size: training stubbed out, the run stopped as the endpoint is made."""
    from types import SimpleNamespace

    from keras_apps.data import sentence_batches, translation_pairs
    from keras_apps.inference import serving
    from keras_apps.lifecycle import Run
    from keras_apps.text import translation_tokens

    class Stop(BaseException):
        pass

    split, encoded, seen = {}, {}, {}
    run_pairs, encode_pairs = translation_pairs.run_pairs, translation_tokens.encode_pairs

    def kept_run_pairs(*args, **kwargs):
        split["train"], split["validation"], split["test"] = made = run_pairs(*args, **kwargs)
        return made

    def kept_encode_pairs(pairs, *args, **kwargs):
        ids = encode_pairs(pairs, *args, **kwargs)
        encoded[id(ids[0])] = pairs
        return ids

    class Model:
        def evaluate(self, batches, **kwargs):
            seen["evaluated"] = batches
            return {"masked_accuracy": 0.5, "token_loss": 1.0}

    def endpoint(model, source_tokenizer, target_tokenizer, beam_size):
        seen["beam_size"] = beam_size
        raise Stop

    monkeypatch.setattr(translation_pairs, "run_pairs", kept_run_pairs)
    monkeypatch.setattr(translation_tokens, "encode_pairs", kept_encode_pairs)
    monkeypatch.setattr(sentence_batches, "sentence_batches",
                        lambda source, target, batch_size, **kwargs: encoded[id(source)])
    monkeypatch.setattr(Run, "fit", lambda self, *args, **kwargs: SimpleNamespace(is_chief=True, model=Model()))
    monkeypatch.setattr(serving, "translation_endpoint", endpoint)
    pairs = [(f"{english} {number}", f"{spanish} {number}") for number in range(12) for english, spanish in TINY_PAIRS]
    write_spa_eng_zip(tmp_path / "spa-eng.zip", pairs)
    with pytest.raises(Stop):
        run_task(["--data-dir", str(tmp_path), "--vocabulary-size", "300", "--batch-size", "16", "--beam-size", "3",
                  "--seed", "5", "--run-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "exports")], capsys)
    assert seen["evaluated"] is split["test"] and seen["beam_size"] == 3
    # The split is the benchmark's, whatever --seed the run trains with (`compress` finds it again by SPLIT_SEED).
    fixed = run_pairs(translation_pairs.split_pairs(translation_pairs.load_pairs(tmp_path), seed=task.SPLIT_SEED),
                      "en-es")
    assert split["test"] == fixed[2] and split["train"] == fixed[0]


def test_the_report_and_metrics_carry_the_test_figures_and_whether_the_whole_split_was_scored(tmp_path, capsys,
                                                                                               monkeypatch):
    """The teacher-forced accuracy and loss reach the test metrics under their own names, and a run scoring only
    --test-sentences sentences does not report the whole split: training, decoding and export stubbed out, the run
    stopped once the report is written."""
    from types import SimpleNamespace

    from keras_apps.evaluate import run_report, translation
    from keras_apps.explain import attention
    from keras_apps.inference import serving
    from keras_apps.inference import translation as inference_translation
    from keras_apps.lifecycle import Run

    class Stop(BaseException):
        pass

    seen = {}

    class Model:
        def evaluate(self, batches, **kwargs):
            return {"masked_accuracy": 0.25, "token_loss": 3.0}

    def finish(self, result, model_name, export, card, report, summary, *, test_metrics=None, **kwargs):
        seen["test_metrics"] = test_metrics
        report({})
        raise Stop

    monkeypatch.setattr(Run, "fit", lambda self, *args, **kwargs: SimpleNamespace(is_chief=True, model=Model()))
    monkeypatch.setattr(Run, "finish", finish)
    monkeypatch.setattr(serving, "translation_endpoint", lambda *args: (lambda sentences: sentences, None))
    monkeypatch.setattr(inference_translation, "translate_all", lambda serve, sources, batch: list(sources))
    monkeypatch.setattr(inference_translation, "Translator", lambda model: None)
    monkeypatch.setattr(inference_translation, "decoding_speed", lambda translator: {})
    monkeypatch.setattr(translation, "translation_scores", lambda translations, references: {
        "bleu": 1.0, "rouge1_f1": 0.1, "rouge2_f1": 0.05, "bleu_signature": "stub"})
    monkeypatch.setattr(attention, "draw_translation_attention",
                        lambda *args: SimpleNamespace(translation="stub"))
    monkeypatch.setattr(run_report, "write_translation_report",
                        lambda directory, **kwargs: seen.setdefault("whole_split", kwargs["whole_split"]))
    pairs = [(f"{english} {number}", f"{spanish} {number}") for number in range(12) for english, spanish in TINY_PAIRS]
    write_spa_eng_zip(tmp_path / "spa-eng.zip", pairs)
    with pytest.raises(Stop):
        run_task(["--data-dir", str(tmp_path), "--vocabulary-size", "300", "--batch-size", "16",
                  "--test-sentences", "2", "--run-dir", str(tmp_path / "run"),
                  "--export-dir", str(tmp_path / "exports")], capsys)
    assert seen["test_metrics"]["masked_accuracy"] == 0.25 and seen["test_metrics"]["loss"] == 3.0
    assert seen["whole_split"] is False
