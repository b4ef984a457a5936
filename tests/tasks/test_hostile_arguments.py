"""Every command of every task, given what a careless or hostile user might: each mistake is one line on
stderr (`error: …`) with exit status 2, never a traceback, and nothing is created on the way."""

import json
import os
import re
from importlib import import_module

import numpy as np
import pytest

from tests.conftest import run_cli, wav_bytes

INVALID_UTF8 = b"bad \xff\xfe".decode("utf-8", "surrogateescape")  # how Python hands over such bytes
HUGE = "9" * 30
REAL_DATA = os.environ.get("KERAS_APPS_DATA")  # read before the test points the variable at an empty folder

COMMANDS = {
    "mnist": ["train", "evaluate", "predict", "compress", "explain"],
    "imdb": ["train", "evaluate", "predict", "compress", "explain"],
    "gpt": ["train", "generate", "compress"],
    "translate": ["train", "translate", "attention", "compress"],
    "speech": ["train", "evaluate", "predict"],
    "multimodal": ["train", "evaluate", "predict"],
}


@pytest.fixture
def place(tmp_path):
    """Files a user might point a command at, by name."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    from PIL import Image

    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "digit.png")
    Image.fromarray(np.eye(28, dtype=np.uint8) * 255).save(tmp_path / "ink.png")
    (tmp_path / "digit.wav").write_bytes(wav_bytes(np.round(8000 * np.sin(np.arange(4000))).astype(int)))
    (tmp_path / "click.wav").write_bytes(wav_bytes(np.round(8000 * np.sin(np.arange(255))).astype(int)))  # a frame - 1
    np.save(tmp_path / "two-images.npy", np.stack([np.eye(28, dtype=np.uint8) * 255] * 2))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "binary.png").write_bytes(bytes(range(256)) * 4)
    np.save(tmp_path / "no-images.npy", np.zeros((0, 28, 28), np.uint8))
    np.save(tmp_path / "floats.npy", np.zeros((2, 28, 28), np.float32))
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    for name in ("mnist.npz", "aclImdb_v1.tar.gz", "spa-eng.zip", "tinyshakespeare.txt",
                 "free-spoken-digit-dataset-1.0.9.tar.gz"):
        (tmp_path / "corrupt" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "corrupt" / name).write_bytes(b"PK\x03\x04" + bytes(range(256)))
    foreign = tmp_path / "foreign" / "1"  # an export of another task
    foreign.mkdir(parents=True)
    (foreign / "saved_model.pb").write_bytes(b"")
    (foreign / "model.keras").write_bytes(b"")
    (foreign / "export.json").write_text(json.dumps({"task": "another", "version": 1}))

    def at(name):
        return str(tmp_path / name)

    return at


def cases(at):
    """`(task, argv, what the one line must say)`."""
    file_under_a_file = at("a-file") + "/x"
    train = [
        (["--epochs", "0"], "at least 1"), (["--epochs", "-1"], "at least 1"), (["--epochs", "two"], "whole number"),
        (["--batch-size", "0"], "at least 1"), (["--batch-size", "1.5"], "whole number"),
        (["--learning-rate", "nan"], "finite"), (["--learning-rate", "-1"], "positive"),
        (["--seed", "-1"], "--seed"), (["--seed", HUGE], "--seed"), (["--seed", "x"], "--seed"),
        (["--strategy", "quantum"], "invalid choice"),
        (["--run-dir", file_under_a_file], "--run-dir"), (["--export-dir", file_under_a_file], "--export-dir"),
        (["--export-dir", at("foreign")], "holds exports of the 'another' task"), (["--epochs", HUGE], "at most"),
        (["--run-dir", at("foreign/1/run")], "lies inside the export"),
        (["--export-dir", at("foreign/1")], "lies inside the export"),
    ]
    loading = [(["--export-dir", at("nowhere")], "does not exist"), (["--export-dir", at("foreign")], "another")]
    yield from (("mnist", argv, said) for argv, said in train)
    yield from (("imdb", argv, said) for argv, said in train)
    yield from (("translate", argv, said) for argv, said in train if argv[0] != "--epochs" or argv[1] != "two")
    yield from (("gpt", argv, said) for argv, said in train if argv[0] != "--epochs")
    yield from ((task, argv, said) for argv, said in train for task in ("speech", "multimodal"))
    yield from [
        ("mnist", ["--data-dir", at("empty")], "mnist.npz not found"),
        ("mnist", ["--data-dir", at("corrupt")], "mnist.npz"),
        ("mnist", ["--validation-fraction", "1"], "between 0 and 1"),
        ("mnist", ["--train-examples", "0"], "at least 1"),
        ("mnist", ["--batch-size", HUGE], "at most 2,147,483,647"),
        ("mnist", ["predict", at("missing.png")], "does not exist"),
        ("mnist", ["predict", at("empty.png")], "not a readable image"),
        ("mnist", ["predict", at("binary.png")], "not a readable image"),
        ("mnist", ["predict", at("empty")], "not a readable image"),
        ("mnist", ["predict", at("no-images.npy")], "holds no images"),
        ("mnist", ["predict", at("floats.npy")], "expected uint8"),
        ("mnist", ["explain", at("no-images.npy")], "holds no images"),
        ("mnist", ["explain", at("two-images.npy")], "holds 2 images; give one (an explanation is for one image)"),
        ("mnist", ["explain", at("empty.png"), "--steps", "0"], "at least 1"),
        ("mnist", ["explain", at("digit.png"), "--method", "anchors"], "invalid choice"),
        ("mnist", ["explain", at("digit.png"), "--samples", "1"], "argument --samples: must be at least 10, got 1"),
        ("imdb", ["explain", "Great.", "--samples", "9"], "argument --samples: must be at least 10, got 9"),
        ("mnist", ["compress", "--sparsity", "1"], "[0, 1)"),
        ("mnist", ["compress", "--representative-examples", "-5"], "at least 1"),
        ("mnist", ["explain", at("digit.png"), "--method", "shap", "--steps", "3"], "--steps applies to --method ig"),
        ("imdb", ["explain", "Great.", "--seed", "5"], "--seed applies to --method lime only"),
        ("mnist", ["compress", "--techniques", "quantize", "--sparsity", "0.5", "--prune-epochs", "7"],
         "--sparsity applies to the prune technique only"),
        ("mnist", ["compress", "--techniques", "quantize", "prune", "--student-epochs", "3"],
         "--student-epochs applies to the distill technique only"),
        ("imdb", ["--data-dir", at("empty")], "aclImdb_v1.tar.gz not found"),
        ("imdb", ["--data-dir", at("corrupt")], "aclImdb_v1.tar.gz"),
        ("imdb", ["--train-examples", "0"], "at least 1"),
        ("imdb", ["--model", "bow", "--preset", "bert_tiny_en_uncased"], "bert only"),
        ("imdb", ["--teacher", "oracle"], "invalid choice"),
        ("imdb", ["--model", "bert", "--lora-rank", "-1"], "at least 1"),
        ("imdb", ["--model", "bert", "--from-scratch", "--lora-rank", "4"], "--from-scratch has none"),
        ("imdb", ["predict", INVALID_UTF8], "not valid UTF-8 text (use a UTF-8 terminal, or --file)"),
        ("imdb", ["predict"], "give reviews"),
        ("imdb", ["predict", "Fine.", "&nbsp;<br />"], "argument 2 is without words"),
        ("imdb", ["predict", "--file", at("missing.txt")], "cannot read"),
        ("imdb", ["predict", "--file", at("empty")], "cannot read"),
        ("imdb", ["predict", "--file", at("binary.txt")], "binary.txt is not UTF-8 text (invalid byte at offset 128)"),
        ("imdb", ["predict", "Fine.", "--file", at("empty.txt")], "empty.txt holds no lines of reviews"),
        ("imdb", ["explain", INVALID_UTF8], "not valid UTF-8 text (use a UTF-8 terminal, or --file)"),
        ("imdb", ["explain", "--file", at("empty.txt")], "give a review"),
        ("imdb", ["explain", "Fine.", "--method", "anchors"], "invalid choice"),
        ("imdb", ["evaluate", "--test-examples", "0"], "at least 1"),
        ("gpt", ["--max-steps", "0"], "at least 1"),
        ("gpt", ["--max-steps", HUGE, "--eval-interval", HUGE], "at most"),
        ("gpt", ["--max-steps", "100", "--eval-interval", "7"], "not a multiple"),
        ("gpt", ["--dropout", "1"], "[0, 1)"),
        ("gpt", ["--text-file", at("missing.txt")], "missing.txt"),
        ("gpt", ["--text-file", at("empty.txt")], "empty.txt"),
        ("gpt", ["--text-file", at("binary.txt")], "binary.txt"),
        ("gpt", ["generate", INVALID_UTF8], "not valid UTF-8 text (use a UTF-8 terminal)"),
        ("gpt", ["generate", "x", "--seed", "99999999999"], "--seed"),
        ("gpt", ["generate", "x", "--temperature", "nan"], "finite"),
        ("gpt", ["generate", "x", "--temperature", "1e39"], "within float32's normal range"),  # inf in the export
        ("gpt", ["--temperature", "1e-50"], "within float32's normal range"),  # 0 there, found after training
        ("gpt", ["generate", "x", "--temperature", "1e-40"], "within float32's normal range"),  # 0 on a CPU
        ("gpt", ["generate", "x", "--max-new-tokens", "-1"], "0 or more"),
        ("gpt", ["generate", "x", "--max-new-tokens", HUGE], "at most"),
        ("gpt", ["compress", "--modes", "float8"], "invalid choice"),
        ("gpt", ["compress", "--modes", "int8", "--modes", "int4"], "--modes is given twice"),
        ("translate", ["compress", "--modes", "int8", "int8"], "--modes names int8 more than once"),
        ("mnist", ["compress", "--techniques", "prune", "--techniques", "distill"], "--techniques is given twice"),
        ("translate", ["compress", "--modes", "float16", "--modes", "int8"], "--modes is given twice"),
        ("gpt", ["compress", "--decoding-tokens", "0"], "at least 1"),
        ("gpt", ["--init-from", at("nowhere")], "does not exist"),
        ("gpt", ["--init-from", at("foreign")], "another"),
        ("gpt", ["--lora-rank", "0"], "at least 1"),
        ("gpt", ["--lora-rank", "8"], "--init-from"),
        ("translate", ["--data-dir", at("empty")], "spa-eng.zip not found"),
        ("translate", ["--data-dir", at("corrupt")], "spa-eng.zip"),
        ("translate", ["--beam-size", "0"], "at least 1"),
        ("translate", ["translate", INVALID_UTF8], "not valid UTF-8 text (use a UTF-8 terminal, or --file)"),
        ("translate", ["translate", "--file", at("missing.txt")], "cannot read"),
        ("translate", ["translate", "--file", at("binary.txt")], "is not UTF-8 text"),
        ("translate", ["attention", INVALID_UTF8], "not valid UTF-8 text (use a UTF-8 terminal)"),
        ("translate", ["compress", "--modes", "gptq"], "invalid choice"),
        ("translate", ["compress", "--test-sentences", "0"], "at least 1"),
        ("speech", ["--data-dir", at("empty")], "free-spoken-digit-dataset-1.0.9.tar.gz not found"),
        ("speech", ["--data-dir", at("corrupt")], "free-spoken-digit-dataset-1.0.9.tar.gz"),
        ("speech", ["predict", at("digit.png")], "not a readable WAV file"),
        ("speech", ["predict", at("missing.wav")], "missing.wav does not exist"),
        ("speech", ["predict", at("click.wav")], "holds 255 samples (31.9 ms); a recording needs at least 256"),
        ("speech", ["--num-mel-bins", "100000"], "--num-mel-bins must be from 8"),
        ("multimodal", ["--data-dir", at("empty")], "not found"),
        ("multimodal", ["--snr-db", "inf"], "finite"),
        ("multimodal", ["--images-per-recording", "0"], "at least 1"),
        ("multimodal", ["predict"], "give an image (--image), a recording (--audio), or both"),
        ("multimodal", ["predict", "--image", at("digit.png")], "digit.png: the picture is blank"),
        ("multimodal", ["predict", "--image", at("floats.npy")], "expected uint8"),
        ("multimodal", ["predict", "--audio", at("empty.txt")], "not a readable WAV file"),
        ("multimodal", ["predict", "--audio", at("click.wav")], "holds 255 samples"),
        ("multimodal", ["predict", "--image", at("two-images.npy")], "holds 2 images; give one"),
    ]
    if REAL_DATA:  # a count beyond what the real data holds: refused, never cut to fit
        real = ["--data-dir", REAL_DATA]
        yield from [
            ("mnist", [*real, "--train-examples", "70000"], "--train-examples 70,000: there are only 60,000 images"),
            ("mnist", [*real, "--explain-examples", "20000"], "--explain-examples 20,000: there are only 10,000"),
            ("imdb", [*real, "--test-examples", "30000"], "--test-examples 30,000: there are only 25,000 reviews"),
            ("imdb", [*real, "--explain-examples", "30000"], "--explain-examples 30,000: there are only 25,000"),
            ("translate", [*real, "--train-pairs", "1000000"], "--train-pairs 1,000,000: there are only 101,018"),
            ("translate", [*real, "--test-sentences", "100000"], "--test-sentences 100,000: there are only 10,444"),
        ]
    for task, commands in COMMANDS.items():
        for command in commands:
            if command != "train":
                for argv, said in loading:
                    given = {"mnist": [at("ink.png")], "speech": [at("digit.wav")],
                             "multimodal": ["--image", at("ink.png")]}.get(task, ["a review"])
                    extra = {"predict": given, "explain": given, "generate": ["x"], "translate": ["Hi."],
                             "attention": ["Hi."]}.get(command, [])
                    yield task, [command, *extra, *argv], said


def test_every_command_of_every_task_has_help(capsys):
    for task, commands in COMMANDS.items():
        main = import_module(f"tasks.{task}").main
        for command in [[], *([name] for name in commands)]:
            status, out, _ = run_cli(main, [*command, "--help"], capsys)
            assert status == 0 and f"usage: python -m tasks.{task}" in out, (task, command)


def test_every_mistake_is_one_line_with_exit_2_and_creates_nothing(place, tmp_path, monkeypatch, capsys):
    from keras_apps.data import locate

    def no_network(remote, directory):
        raise OSError("no network")

    monkeypatch.setattr(locate, "_download", no_network)
    monkeypatch.setenv("KERAS_APPS_DATA", place("empty"))
    monkeypatch.chdir(tmp_path)  # default run and export folders land here, to be found if created
    failures = []
    for task, argv, said in cases(place):
        before = sorted(path.name for path in tmp_path.iterdir())
        status, _, err = run_cli(import_module(f"tasks.{task}").main, argv, capsys)
        created = sorted(set(path.name for path in tmp_path.iterdir()) - set(before))
        if status != 2 or err.count("\n") != 1 or not err.startswith("error: ") or said not in err or created:
            failures.append(f"{task} {argv}: exit {status}, created {created}, stderr {err[-300:]!r}")
    assert not failures, "\n".join(failures)


# A flag or argument that names a file or folder, by its name: such a value may never be empty.
PATH_NAMES = re.compile(r"(^|_)(dir|exports?|files?|output|image|audio|from|backbone)$")


def path_arguments(main_module):
    """`(command, argv giving an empty path)` for every path argument of every command of a task."""
    from keras_apps import cli

    parser = (main_module.build_parser() if not hasattr(main_module, "COMMANDS") else
              cli.build_parser(main_module.TASK, "", main_module.COMMANDS))
    commands = next((action.choices for action in parser._actions if action.dest == "command"), {None: parser})
    for command, subparser in commands.items():
        for action in subparser._actions:
            if PATH_NAMES.search(action.dest):
                given = [action.option_strings[0], ""] if action.option_strings else [""]
                yield command, [*([command] if command else []), *given]


def test_every_path_argument_refuses_an_empty_path(capsys):
    """An empty path is the current folder to Python: read or written there, or taken as the flag left unset."""
    failures, checked = [], 0
    for task in [*COMMANDS, "rlhf", "gpt_classifier", "demo"]:
        module = import_module(f"tasks.{task}")
        for command, argv in path_arguments(module):
            checked += 1
            status, _, err = run_cli(module.main, argv, capsys)
            if status != 2 or err.count("\n") != 1 or "expected a path, got an empty one" not in err:
                failures.append(f"{task} {argv}: exit {status}, stderr {err[-200:]!r}")
    assert checked > 50 and not failures, "\n".join(failures)
