"""`python -m tasks.gpt`: commands and errors on a small text in this process, and one run of a few
hundred steps on the real Tiny Shakespeare in fresh processes, as a user runs it."""

import json
import math
from types import SimpleNamespace

import pytest

from bench import gpt as bench_gpt
from keras_apps.demo.answers import GenerationAnswers
from keras_apps.errors import UserError
from keras_apps.lifecycle import Run
from keras_apps.training import lora
from tasks import gpt as task
from tests.conftest import run_cli, run_python
from tests.evaluate.html_check import check_page

TINY = ["--context-length", "16", "--num-layers", "1", "--num-heads", "2", "--hidden-dim", "16",
        "--batch-size", "4", "--max-steps", "4", "--eval-interval", "2", "--eval-batches", "2",
        "--warmup-steps", "1", "--sample-tokens", "10", "--no-jit-compile"]
POEM = "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate.\n" * 20


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.fixture(scope="module")
def tiny_gpt(tmp_path_factory):
    """One tiny run (`TINY` on `POEM`), made once for the tests that read it, fine-tune it or compress it: the text
    (`text`), the run folder (`run`) and the export (`export`)."""
    from keras_apps import cli

    root = tmp_path_factory.mktemp("tiny-gpt")
    (root / "poem.txt").write_text(POEM)
    made = SimpleNamespace(text=root / "poem.txt", run=root / "run", export=root / "export")
    status = cli.run(task.main, ["--text-file", str(made.text), *TINY, "--top-k", "3", "--run-dir", str(made.run),
                                 "--export-dir", str(made.export)])
    assert status == 0, "the tiny GPT run failed (its output is above)"
    return made


@pytest.mark.parametrize("command", [[], ["train"], ["generate"], ["compress"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.gpt" in out


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "gpt4"], "argument --recipe: invalid choice"),
    (["--dropout", "1"], "argument --dropout: must be in [0, 1), got 1.0"),
    (["--max-steps", "1000", "--eval-interval", "300"], "--max-steps 1000 is not a multiple of --eval-interval 300"),
    (["--max-steps", "100", "--eval-interval", "50", "--warmup-steps", "100"], "must be fewer than --max-steps"),
    (["generate", "x", "--max-new-tokens", "100000"], "--max-new-tokens is at most 10,000 per call, got 100,000"),
    (["generate", "x", "--temperature", "0"], "argument --temperature: must be positive"),
    (["--lora-rank", "0"], "argument --lora-rank: must be at least 1, got 0"),
    (["--sampler", "greedy", "--top-k", "5"], "--top-k is for the top_k sampler, not --sampler greedy"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err.strip().splitlines()[-1]


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (b"\xff\xfe rubbish", "is not UTF-8 text")])
def test_an_empty_or_binary_text_file_is_one_line(tmp_path, capsys, content, message):
    (tmp_path / "book.txt").write_bytes(content)
    status, _, err = run_task(["--text-file", str(tmp_path / "book.txt"), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("tokenizer, text, message", [
    ("char", "hello world, this is tiny.\n" * 4, "the training text has 97 tokens, fewer than one window of 129"),
    ("byte", "ñ" * 180, "the validation text has 36 tokens, fewer than one window of 129"),  # two bytes each
])
def test_a_text_too_short_for_one_window_is_refused_before_the_run_folder_opens(tmp_path, capsys, tokenizer, text,
                                                                                 message):
    (tmp_path / "short.txt").write_text(text)
    argv = ["--text-file", str(tmp_path / "short.txt"), "--tokenizer", tokenizer, "--run-dir", str(tmp_path / "run")]
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()  # so the shorter --context-length the line asks for may use it


def test_a_wordpiece_text_too_short_is_refused_and_the_shorter_context_starts_over_in_the_same_folder(tmp_path,
                                                                                                     capsys,
                                                                                                     monkeypatch):
    """A WordPiece text's token count is known only once its vocabulary is learned, in the run folder: the refusal
    comes after the folder opened, and the rerun with the shorter --context-length it asks for, other settings in
    a folder where no training began, starts the run over there instead of being refused."""
    (tmp_path / "short.txt").write_text("hello world, this is tiny.\n" * 30)  # 24 validation tokens
    run = tmp_path / "run"
    argv = ["--text-file", str(tmp_path / "short.txt"), "--tokenizer", "wordpiece", "--run-dir", str(run),
            "--export-dir", str(tmp_path / "export")]
    status, _, err = run_task(argv, capsys)
    assert status == 2 and "fewer than one window of 129; use a longer text or a shorter --context-length" in err
    assert (run / "tokenizer.json").is_file() and not run.joinpath("history.csv").exists()

    def ctrl_c_as_training_starts(*args, **kwargs):  # accepted is all this test needs to see: no need to train
        raise KeyboardInterrupt

    monkeypatch.setattr(Run, "fit", ctrl_c_as_training_starts)
    status, out, err = run_task([*argv, *TINY], capsys)
    assert status == 130 and err == f"interrupted; rerun with --run-dir {run} to resume it\n"
    assert f"Starting over in {run}: the attempt there stopped before training, with other settings" in out
    assert json.loads((run / "config.json").read_text())["model"]["context_length"] == 16


def test_an_impossible_model_shape_is_one_line(tmp_path, capsys):
    (tmp_path / "poem.txt").write_text(POEM)
    status, _, err = run_task(["--text-file", str(tmp_path / "poem.txt"), "--hidden-dim", "10", "--num-heads", "4",
                               "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and err == "error: --hidden-dim 10 is not a multiple of --num-heads 4\n"
    assert not (tmp_path / "run").exists()  # refused before the text is read


def test_a_tiny_run_trains_reports_exports_and_generates(tiny_gpt, capsys):
    export_dir = tiny_gpt.export
    metrics = json.loads((tiny_gpt.run / "metrics.json").read_text())
    validation = metrics["validation"]
    assert validation["perplexity"] == pytest.approx(math.exp(validation["loss"]))
    tokens, examples = metrics["train_tokens_per_second"], metrics["train_examples_per_second"]
    assert tokens == pytest.approx(examples * 16, abs=1)  # rounded figures
    assert metrics["steps"] == 4 and metrics["epochs"] == 2 and 0 < metrics["extra"]["mfu"] < 1
    assert "```text\nThou art more" in (tiny_gpt.run / "samples.md").read_text()  # the poem's, not "ROMEO:"
    assert (export_dir / "1" / "tokenizer.json").is_file()
    text, images = check_page((tiny_gpt.run / "report.html").read_text())
    assert "Evaluation on the whole validation split" in text and "Thou art more" in text and len(images) == 1
    card = (export_dir / "1" / "MODEL_CARD.md").read_text()
    assert "## Metrics on the validation set" in card
    assert f"| perplexity | {metrics['validation']['perplexity']:.4f} |" in card

    generated = [run_task(["generate", "Shall I", "--max-new-tokens", "25", "--seed", str(seed), "--export-dir",
                           str(export_dir)], capsys) for seed in (1, 1)]
    assert generated[0][0] == 0 and generated[0][1] == generated[1][1]
    assert generated[0][1].startswith("Shall I") and len(generated[0][1].rstrip("\n")) >= len("Shall I")
    status, out, err = run_task(["generate", "Thou", "--max-new-tokens", "0", "--export-dir", str(export_dir)],
                                capsys)
    assert status == 0 and out == "Thou\n" and err == ""
    status, out, err = run_task(["generate", "Shall I\u2019", "--max-new-tokens", "0", "--export-dir",
                                 str(export_dir)], capsys)  # a curly quote, pasted: read as the poem's straight one
    assert status == 0 and out == "Shall I\u2019\n" and err == ""
    status, out, err = run_task(["generate", "Shall I\u2603", "--max-new-tokens", "0", "--export-dir",
                                 str(export_dir)], capsys)  # a snowman: not among the poem's characters
    assert status == 0 and out == "Shall I\u2603\n"
    assert err == ("note: 1 of the prompt's 8 tokens is not in the model's vocabulary; it reads each as an unknown "
                   "token\n")

    tab = GenerationAnswers(export_dir)  # what the demo's GPT tab serves: the same text for the same request
    assert tab.answer("Shall I", 25, 0.8, 1) + "\n" == generated[0][1]
    for bad, message in (((5, 0.0, 1), "temperature"), ((0, 0.8, 1), "length"), ((5, 0.8, 1.5), "seed")):
        with pytest.raises(UserError, match=message):
            tab.answer("Thou", *bad)


def test_fine_tuning_an_export_through_lora_trains_the_adapters_alone_and_exports_a_plain_model(
        tiny_gpt, tmp_path, capsys):
    import keras
    import numpy as np

    (tmp_path / "sonnet.txt").write_text("When I do count the clock that tells the time,\n" * 30)
    base, tuned = tiny_gpt.export, tmp_path / "tuned"
    fine_tune = ["--text-file", str(tmp_path / "sonnet.txt"), "--init-from", str(base), "--lora-rank", "2",
                 *TINY[8:], "--run-dir", str(tmp_path / "tuning"), "--export-dir", str(tuned)]  # no shape flags
    status, out, err = run_task(fine_tune, capsys)
    assert status == 0, err
    assert "Merging the rank-2 LoRA adapters" in out
    metrics = json.loads((tmp_path / "tuning" / "metrics.json").read_text())
    before = keras.saving.load_model(base / "1" / "model.keras", compile=False)
    adapters = sum(np.size(weight) for weight in lora.enable(before, 2).trainable_weights)
    assert metrics["trainable_params"] == adapters and metrics["params"] > 5 * adapters
    assert set(metrics["validation_before_training"]) == {"loss", "perplexity"}
    assert metrics["validation_before_training"] != metrics["validation"]  # the export's loss, not the tuned model's
    recorded = json.loads((tmp_path / "tuning" / "config.json").read_text())
    assert recorded["init_from"] == str(base / "1") and recorded["lora_rank"] == 2
    assert recorded["model"] == json.loads((base / "1" / "export.json").read_text())["model"]
    started = json.loads((tuned / "1" / "export.json").read_text())["init_from"]  # the export names its base
    assert started == {key: recorded[key] for key in ("init_from", "init_from_weights", "lora_rank")}
    card = (tuned / "1" / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card: gpt / default, fine-tuned\n")
    assert f"- Fine-tuned from: {base / '1'} (weights {started['init_from_weights']}) through rank-2 LoRA" in card

    before = keras.saving.load_model(base / "1" / "model.keras", compile=False)
    after = keras.saving.load_model(tuned / "1" / "model.keras", compile=False)  # a plain model: no adapter
    assert [weight.path for weight in after.weights] == [weight.path for weight in before.weights]
    tokens = np.arange(16)[None] % 20
    assert not np.allclose(np.asarray(after(tokens)), np.asarray(before(tokens)))
    status, out, _ = run_task(["generate", "When", "--max-new-tokens", "5", "--export-dir", str(tuned)], capsys)
    assert status == 0 and out.startswith("When")

    for flags, message in ((["--num-layers", "2"], "--num-layers cannot be set with --init-from"),
                           (["--tokenizer", "byte"], "the export at"),
                           (["--init-from", str(tmp_path / "nothing")], "does not exist")):
        status, _, err = run_task([*fine_tune, *flags, "--run-dir", str(tmp_path / "refused")], capsys)
        assert status == 2 and message in err and len(err.strip().splitlines()) == 1
    status, _, err = run_task(["--text-file", str(tmp_path / "sonnet.txt"), "--lora-rank", "2"], capsys)
    assert status == 2 and "--lora-rank adapts a trained model: give the export to fine-tune with --init-from" in err


def test_a_run_killed_after_publishing_resumes_with_its_text_spelled_otherwise_but_not_with_other_sampling(
        tiny_gpt, tmp_path, capsys, monkeypatch):
    """Its export, published already, serves the sampling it was made with: a rerun with another would report
    samples the export does not serve. The text's path may be spelled otherwise: the same file is the same run."""
    import shutil

    run, export = tmp_path / "run", tmp_path / "export"
    shutil.copytree(tiny_gpt.run, run)
    shutil.copytree(tiny_gpt.export, export)
    (run / "metrics.json").unlink()  # killed after publishing, before writing its last file
    folders = ["--run-dir", str(run), "--export-dir", str(export)]
    argv = [*TINY, "--top-k", "3", *folders]
    status, _, err = run_task(["--text-file", str(tiny_gpt.text), *TINY, *folders, "--sampler", "greedy",
                               "--temperature", "1.5"], capsys)
    assert status == 2 and err.count("\n") == 1 and "other settings: sampler 'top_k' (now 'greedy')" in err, err
    monkeypatch.chdir(tiny_gpt.text.parent)
    status, out, err = run_task(["--text-file", tiny_gpt.text.name, *argv], capsys)
    assert status == 0, err
    assert "Resuming the interrupted run" in out and [path.name for path in export.iterdir()] == ["1"]


def test_written_out_blocks_train_and_export_a_gpt_a_fresh_process_generates_from(tmp_path, capsys):
    (tmp_path / "poem.txt").write_text(POEM)
    export_dir = tmp_path / "export"
    status, _, err = run_task(["--text-file", str(tmp_path / "poem.txt"), *TINY, "--blocks", "explained",
                               "--run-dir", str(tmp_path / "run"), "--export-dir", str(export_dir)], capsys)
    assert status == 0, err
    assert json.loads((export_dir / "1" / "export.json").read_text())["model"]["blocks"] == "explained"
    generate = ["generate", "Shall I", "--max-new-tokens", "25", "--seed", "3", "--export-dir", str(export_dir)]
    status, in_process, _ = run_task(generate, capsys)
    fresh = run_python("-m", "tasks.gpt", *generate)
    assert status == 0 and fresh.returncode == 0, fresh.stderr[-3000:]
    assert fresh.stdout == in_process and in_process.startswith("Shall I")


def test_a_wordpiece_gpt_writes_words_that_a_fresh_process_generates_alike(tmp_path, capsys):
    (tmp_path / "poem.txt").write_text(POEM)
    export_dir = tmp_path / "export"
    status, _, err = run_task(["--text-file", str(tmp_path / "poem.txt"), *TINY, "--tokenizer", "wordpiece",
                               "--run-dir", str(tmp_path / "run"), "--export-dir", str(export_dir)], capsys)
    assert status == 0, err
    vocabulary = json.loads((export_dir / "1" / "tokenizer.json").read_text())["vocabulary"]
    assert vocabulary[:3] == ["[PAD]", "[UNK]", "[NL]"] and "compare" in vocabulary
    card = (export_dir / "1" / "MODEL_CARD.md").read_text()  # the card tells what this run read and learned
    assert "A subword-level (WordPiece) GPT" in card and "poem.txt, the text given with --text-file" in card
    assert "character" not in card and "Tiny Shakespeare" not in card
    generate = ["generate", "Shall I", "--max-new-tokens", "12", "--seed", "3", "--export-dir", str(export_dir)]
    status, in_process, _ = run_task(generate, capsys)
    fresh = run_python("-m", "tasks.gpt", *generate)
    assert status == 0 and fresh.returncode == 0, fresh.stderr[-3000:]
    assert fresh.stdout == in_process and in_process.startswith("Shall I ")
    assert "##" not in in_process and "[" not in in_process  # pieces joined, no special token shown


def test_a_byte_gpt_reads_any_utf_8_text_and_exports_a_model_that_writes_it(tmp_path, capsys):
    (tmp_path / "poem.txt").write_text(POEM.replace("summer", "verano ñandú"))  # two-byte characters too
    export_dir = tmp_path / "export"
    status, _, err = run_task(["--text-file", str(tmp_path / "poem.txt"), *TINY, "--tokenizer", "byte",
                               "--run-dir", str(tmp_path / "run"), "--export-dir", str(export_dir)], capsys)
    assert status == 0, err
    assert json.loads((export_dir / "1" / "tokenizer.json").read_text()) == {"kind": "byte"}
    status, out, err = run_task(["generate", "ñandú ☃", "--max-new-tokens", "12", "--export-dir", str(export_dir)],
                                capsys)
    assert status == 0 and out.startswith("ñandú ☃") and len(out.encode("utf-8")) >= len("ñandú ☃".encode()) + 1
    assert err == ""  # bytes spell any text: no unknown token


def test_compress_exports_copies_that_a_fresh_process_generates_from_and_converts_to_litert(
        tiny_gpt, tmp_path, capsys):
    export_dir, compressed = tiny_gpt.export, tmp_path / "compressed"
    status, out, err = run_task(["compress", "--text-file", str(tiny_gpt.text), "--decoding-tokens", "8",
                                 "--calibration-windows", "4", "--modes", "int8", "gptq", "litert-int8",
                                 "--export-dir", str(export_dir), "--run-dir", str(compressed)], capsys)
    assert status == 0, err
    rows = json.loads((compressed / "compression.json").read_text())
    assert [row["variant"] for row in rows] == ["float32", "int8", "gptq", "litert-int8"]  # 16-bit: test_variants
    # The default recipe computes in bfloat16; GPTQ and AWQ copies in float32 (keras_apps.compress.language_model).
    assert [row["compute_dtype"] for row in rows] == ["bfloat16", "bfloat16", "float32", "int8, LiteRT, uncached"]
    litert = rows[-1]
    assert litert["size_bytes"] == (compressed / "litert-int8" / "model.tflite").stat().st_size
    assert litert["size_bytes"] < rows[0]["size_bytes"]
    assert litert["validation_loss"] == pytest.approx(rows[0]["validation_loss"], abs=0.05)
    validation = json.loads((tiny_gpt.run / "metrics.json").read_text())["validation"]
    assert rows[0]["validation_loss"] == pytest.approx(validation["loss"], abs=1e-4)  # float32: the export's own
    assert all(row["size_bytes"] < rows[0]["size_bytes"] for row in rows[1:3])
    assert all(len(row["quantized_layers"]) == 6 for row in rows[1:3])
    assert (compressed / "float32.keras").stat().st_size < (export_dir / "1" / "model.keras").stat().st_size
    assert "| int8 |" in (compressed / "compression.md").read_text()
    recorded = json.loads((compressed / "int8" / "1" / "export.json").read_text())
    assert recorded["quantization"] == "int8" and recorded["task"] == "gpt"
    assert recorded["sampler"] == "top_k" and recorded["top_k"] == 3  # the copy samples as the export does
    for variant, row in (("int8", rows[1]), ("gptq", rows[2])):  # each copy's own figures, not the original's
        validation = json.loads((compressed / variant / "1" / "export.json").read_text())["validation"]
        assert validation == {"loss": row["validation_loss"], "perplexity": math.exp(row["validation_loss"])}
    card = (compressed / "gptq" / "1" / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card: a gptq copy of")
    assert f"| validation_loss | {rows[2]['validation_loss']:,.4f} |" in card
    status, _, err = run_task(["--init-from", str(compressed / "int8"), "--text-file", str(tiny_gpt.text),
                               "--run-dir", str(tmp_path / "tuned"), "--export-dir", str(tmp_path / "tuned-exports")],
                              capsys)
    assert status == 2 and "is a compressed copy (" in err and "; train from the export it copies" in err, err
    (tmp_path / "other.txt").write_text("Another text, which the copy's own text check would refuse.\n" * 40)
    status, _, err = run_task(["compress", "--text-file", str(tmp_path / "other.txt"), "--export-dir",
                               str(compressed / "int8"), "--run-dir", str(tmp_path / "again")], capsys)
    assert status == 2 and "is a compressed copy (" in err and "; compress the export it copies" in err, err

    for variant in ("int8", "gptq"):
        generate = ["generate", "Shall I", "--max-new-tokens", "25", "--seed", "3",
                    "--export-dir", str(compressed / variant)]
        status, in_process, _ = run_task(generate, capsys)
        fresh = run_python("-m", "tasks.gpt", *generate)
        assert status == 0 and fresh.returncode == 0, fresh.stderr[-3000:]
        assert fresh.stdout == in_process and in_process.startswith("Shall I")
    status, _, err = run_task(["compress", "--text-file", str(tiny_gpt.text), "--export-dir", str(export_dir),
                               "--run-dir", str(compressed)], capsys)
    assert status == 2 and f"{compressed} already holds a compression report; choose another --run-dir" in err
    status, _, err = run_task(["compress", "--modes", "int2", "--export-dir", str(export_dir)], capsys)
    assert status == 2 and "argument --modes: invalid choice: 'int2'" in err and err.count("\n") == 1


def test_a_compression_rerun_with_other_modes_leaves_no_copy_its_report_does_not_list(tiny_gpt, tmp_path, capsys,
                                                                                      monkeypatch):
    """A run killed once its int8 copy is exported, before its report: the next, asked for bfloat16 alone, removes
    that copy rather than leave it unreported beside its own."""
    from keras_apps.compress import reports

    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed

    compressed = tmp_path / "compressed"
    command = ["compress", "--text-file", str(tiny_gpt.text), "--decoding-tokens", "8",
               "--export-dir", str(tiny_gpt.export), "--run-dir", str(compressed)]
    with monkeypatch.context() as patch, pytest.raises(Killed):
        patch.setattr(reports, "write_report", killed)
        run_task([*command, "--modes", "int8"], capsys)
    assert (compressed / "int8" / "1" / "saved_model.pb").is_file()
    status, _, err = run_task([*command, "--modes", "bfloat16"], capsys)
    assert status == 0, err
    rows = json.loads((compressed / "compression.json").read_text())
    assert [row["variant"] for row in rows] == ["float32", "bfloat16"]
    assert [path.name for path in compressed.glob("*/")] == ["bfloat16"]


def test_compress_refuses_a_text_the_export_did_not_learn(tiny_gpt, tmp_path, capsys):
    """Its validation loss would be another text's: the export records which text it learned."""
    assert json.loads((tiny_gpt.export / "1" / "export.json").read_text())["text"]["file"] == "poem.txt"
    (tmp_path / "other.txt").write_text("Something else entirely, and not a sonnet.\n" * 40)
    status, _, err = run_task(["compress", "--text-file", str(tmp_path / "other.txt"), "--export-dir",
                               str(tiny_gpt.export), "--run-dir", str(tmp_path / "compressed")], capsys)
    assert status == 2 and err.count("\n") == 1
    assert f"--text-file {tmp_path / 'other.txt'} is not the text the export at" in err and "(poem.txt)" in err
    assert not (tmp_path / "compressed").exists()


def test_generating_from_a_missing_export_is_one_line(tmp_path, capsys):
    status, _, err = run_task(["generate", "x", "--export-dir", str(tmp_path / "none")], capsys)
    assert status == 2 and "does not exist" in err


@pytest.mark.real_data
def test_a_few_hundred_steps_on_tiny_shakespeare_learn_and_export(real_shakespeare_dir, tmp_path):
    data_dir = real_shakespeare_dir
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    completed = run_python(
        "-m", "tasks.gpt", "--recipe", "nanogpt-cpu", "--max-steps", "300", "--eval-interval", "150",
        "--eval-batches", "5", "--warmup-steps", "30", "--sample-tokens", "60", "--temperature", "0.8",
        "--data-dir", str(data_dir), "--run-dir", str(run_dir), "--export-dir", str(export_dir),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # A character bigram model scores 2.48 on this validation split; this run measured 2.395 (bench/NOTES.md).
    assert metrics["validation"]["loss"] < 2.45, metrics["validation"]
    row = bench_gpt.gpt_row("nanogpt-cpu", metrics, wall_seconds=1.0)  # the benchmark reads this run's figures
    assert row["validation_loss"] == metrics["validation"]["loss"] and row["steps"] == 300

    # The export, in a fresh process, writes what the training process wrote for the same seed.
    generated = run_python("-m", "tasks.gpt", "generate", "ROMEO:", "--max-new-tokens", "60", "--temperature", "0.8",
                           "--seed", "0", "--export-dir", str(export_dir))
    assert generated.returncode == 0, generated.stderr[-3000:]
    text = generated.stdout[:-1]  # less the line break `print` adds
    assert len(text) >= len("ROMEO:") + 50 and f"```text\n{text}\n```" in (run_dir / "samples.md").read_text()


def test_an_interrupted_run_resumes_with_its_tokenizer_and_only_on_the_same_text(tmp_path, capsys, monkeypatch):
    from keras_apps.training import runner
    from tests.training.helpers import InterruptMidEpoch

    def press_ctrl_c():
        raise KeyboardInterrupt

    (tmp_path / "poem.txt").write_text(POEM)
    run = tmp_path / "run"
    argv = ["--text-file", str(tmp_path / "poem.txt"), *TINY, "--max-steps", "8", "--eval-interval", "4",
            "--steps-per-execution", "1", "--run-dir", str(run), "--export-dir", str(tmp_path / "export")]
    real_fit = runner.fit
    monkeypatch.setattr(runner, "fit", lambda *args, **kwargs: real_fit(
        *args, **kwargs, callbacks=[InterruptMidEpoch(1, press_ctrl_c)]))
    status, _, err = run_task(argv, capsys)
    assert status == 130 and f"rerun with --run-dir {run} to resume it" in err
    tokenizer, written = (run / "tokenizer.json").read_text(), (run / "tokenizer.json").stat().st_mtime_ns
    monkeypatch.setattr(runner, "fit", real_fit)

    # Another text in the same run folder would meet a vocabulary and checkpoints learned from the first one.
    (tmp_path / "poem.txt").write_text("Zounds! " + POEM)
    status, _, err = run_task(argv, capsys)
    assert status == 2 and "started with other settings: data" in err and err.count("\n") == 1
    assert not (tmp_path / "export").exists() and (run / "tokenizer.json").read_text() == tokenizer

    (tmp_path / "poem.txt").write_text(POEM)
    status, out, err = run_task(argv, capsys)
    assert status == 0, err
    assert "Resuming the interrupted run" in out and (run / "tokenizer.json").stat().st_mtime_ns == written
    assert json.loads((run / "metrics.json").read_text())["resumed_from_epoch"] == 1


def test_a_run_stopped_early_says_how_many_steps_it_trained(tmp_path, capsys):
    """Its summary line said `--max-steps` steps were trained, whatever early stopping cut."""
    (tmp_path / "poem.txt").write_text(POEM)
    argv = ["--text-file", str(tmp_path / "poem.txt"), *TINY, "--max-steps", "40", "--early-stopping", "1",
            "--learning-rate", "3", "--run-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]
    status, out, err = run_task(argv, capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["steps"] < 40  # stopped early: the summary's figure is the run's own
    assert f"| {metrics['params']:,} parameters, {metrics['steps']:,} steps ({metrics['trained_for']}, " in out


def test_generate_passes_its_prompt_length_temperature_and_seed_on_to_the_export(tmp_path, capsys, monkeypatch):
    """Each flag a user sets reaches the export's signature (the export itself stubbed: no model needed); the
    largest --max-new-tokens allowed is accepted."""
    import tensorflow as tf

    from keras_apps.export import saved_model
    from keras_apps.inference import text_generation

    calls = []

    def generate_text(**inputs):
        calls.append({name: value.numpy() for name, value in inputs.items()})
        return {"text": tf.constant(inputs["prompt"].numpy() + b" and more")}

    monkeypatch.setattr(saved_model, "load_serving", lambda path, signature, task: (tmp_path, generate_text))
    monkeypatch.setattr(text_generation, "note_unknown_prompt_tokens", lambda path, prompt: None)
    status, out, err = run_task(["generate", "Shall I", "--max-new-tokens", str(task.MAX_NEW_TOKENS),
                                 "--temperature", "1.7", "--seed", "42", "--export-dir", str(tmp_path)], capsys)
    assert status == 0 and out == "Shall I and more\n", err
    assert calls[0]["prompt"] == b"Shall I" and calls[0]["max_new_tokens"] == task.MAX_NEW_TOKENS
    assert calls[0]["temperature"] == pytest.approx(1.7) and calls[0]["seed"] == 42


def test_training_draws_its_windows_with_the_seed_given(tmp_path, capsys, monkeypatch):
    """--seed reaches the training windows' shuffle (training itself stubbed: the run stops as it would start)."""
    from keras_apps.data import token_windows

    class Stop(BaseException):
        pass

    seeds = []
    random_windows = token_windows.random_windows

    def recorded(*args, seed, **kwargs):
        seeds.append(seed)
        return random_windows(*args, seed=seed, **kwargs)

    def stop(self, *args, **kwargs):
        raise Stop

    monkeypatch.setattr(token_windows, "random_windows", recorded)
    monkeypatch.setattr(Run, "fit", stop)
    (tmp_path / "poem.txt").write_text(POEM)
    with pytest.raises(Stop):
        run_task(["--text-file", str(tmp_path / "poem.txt"), *TINY, "--seed", "7", "--run-dir", str(tmp_path / "run"),
                  "--export-dir", str(tmp_path / "export")], capsys)
    assert seeds == [7]


def test_the_reports_samples_are_drawn_with_the_seed_given(tmp_path, capsys, monkeypatch):
    """--seed reaches the samples the report shows (training, the validation pass and the endpoint stubbed: the run
    stops as the samples are drawn)."""
    from keras_apps.evaluate import language_model
    from keras_apps.inference import serving
    from keras_apps.training import flops

    class Stop(BaseException):
        pass

    seeds = []

    def write_samples(generate_text, path, prompts, *, seed, **kwargs):
        seeds.append(seed)
        raise Stop

    model = SimpleNamespace(count_params=lambda: 1000, compute_dtype="float32")
    monkeypatch.setattr(Run, "fit", lambda self, *args, **kwargs: SimpleNamespace(
        is_chief=True, model=model, train_examples_per_second=10.0, trainable_params=1000))
    monkeypatch.setattr(language_model, "whole_split_loss", lambda *args: {"loss": 1.0, "perplexity": math.e})
    monkeypatch.setattr(flops, "model_flops_utilization", lambda *args: {"mfu": 0.1})
    monkeypatch.setattr(serving, "recorded_generation_endpoint", lambda *args: (lambda **kwargs: kwargs, None))
    monkeypatch.setattr(language_model, "write_samples", write_samples)
    (tmp_path / "poem.txt").write_text(POEM)
    with pytest.raises(Stop):
        run_task(["--text-file", str(tmp_path / "poem.txt"), *TINY, "--seed", "7", "--run-dir", str(tmp_path / "run"),
                  "--export-dir", str(tmp_path / "export")], capsys)
    assert seeds == [7]
