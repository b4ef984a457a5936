"""`python -m tasks.rlhf`: its commands and errors, and the supervised stage end to end on a tiny archive of
reviews in the real layout, its export generating in a fresh process."""

import json

import pytest

from keras_apps.data import imdb
from tasks import rlhf as task
from tests.conftest import TINY_IMDB_SIZES, run_cli, run_python, write_tiny_imdb


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.mark.parametrize("command", [[], ["sft"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.rlhf" in out


@pytest.mark.parametrize("argv, message", [
    (["sft", "--max-steps", "0"], "--max-steps"),
    (["sft", "--max-steps", "10", "--eval-interval", "4"], "not a multiple of --eval-interval 4"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys, tmp_path, monkeypatch):
    write_tiny_imdb(tmp_path)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
    status, _, err = run_task([*argv, "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_sft_trains_a_subword_gpt_on_the_training_reviews_that_a_fresh_process_generates_from(tmp_path, capsys,
                                                                                               monkeypatch):
    write_tiny_imdb(tmp_path)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
    export_dir = tmp_path / "export"
    status, out, err = run_task(["sft", "--max-steps", "2", "--eval-interval", "1", "--data-dir", str(tmp_path),
                                 "--run-dir", str(tmp_path / "run"), "--export-dir", str(export_dir)], capsys)
    assert status == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["tokenizer"] == "wordpiece" and config["text_file"].endswith("reviews-train-unsup.txt")
    assert json.loads((export_dir / "1" / "tokenizer.json").read_text())["kind"] == "wordpiece"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["steps"] == 2 and metrics["validation"]["loss"] > 0

    fresh = run_python("-m", "tasks.gpt", "generate", "This movie", "--max-new-tokens", "8", "--export-dir",
                       str(export_dir))
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert fresh.stdout.startswith("This movie") and len(fresh.stdout) > len("This movie\n")
    assert "##" not in fresh.stdout and "[" not in fresh.stdout
