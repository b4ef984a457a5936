"""`python -m tasks.gpt_classifier`: GPT-1's recipe on a tiny archive of reviews in the real layout, fine-tuned
from the tiny SFT model (the `tiny_sft` fixture), its export classifying raw texts in a fresh process (the
network from scratch: tests/preference/test_models.py)."""

import json

from keras_apps.data import imdb
from tasks import gpt_classifier as task
from tests.conftest import TINY_IMDB_SIZES, run_cli, run_python


def test_help(capsys):
    status, out, _ = run_cli(task.main, ["train", "--help"], capsys)
    assert status == 0 and "--from-scratch" in out


def test_without_an_sft_export_the_error_names_the_command_that_makes_it(tmp_path, capsys):
    status, _, err = run_cli(task.main, ["--sft-export", str(tmp_path / "none")], capsys)
    assert status == 2 and "python -m tasks.rlhf sft" in err and err.count("\n") == 1


def test_fine_tuned_on_tiny_reviews_exports_a_classifier_a_fresh_process_serves(
        tiny_sft, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tiny_sft.cache))
    monkeypatch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
    sft = tiny_sft.export
    for flag, split in [("--train-examples", "training"), ("--test-examples", "test")]:
        status, _, err = run_cli(task.main, ["--sft-export", str(sft), flag, "49", "--data-dir",
                                             str(tiny_sft.data_dir), "--run-dir", str(tmp_path / "refused")], capsys)
        assert status == 2 and f"{flag} 49: there are only 48 reviews in IMDB's {split} split" in err
        assert not (tmp_path / "refused").exists()
    status, out, err = run_cli(task.main, ["--sft-export", str(sft), "--epochs", "1", "--batch-size", "8",
                                           "--data-dir", str(tiny_sft.data_dir), "--run-dir", str(tmp_path / "tuned"),
                                           "--export-dir", str(tmp_path / "tuned-export")], capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "tuned" / "metrics.json").read_text())
    assert metrics["model"] == "gpt-fine-tuned" and 0 <= metrics["test"]["accuracy"] <= 1 and "test accuracy" in out
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["from_scratch"] is False
    script = ("import sys, tensorflow as tf\n"
              "from keras_apps.export.saved_model import load_serving\n"
              "_, serve = load_serving(sys.argv[1], task='gpt_classifier')\n"
              "out = serve(texts=tf.constant([b'', b'A wonderful film. ' * 3000, b'\\xff\\xfe not utf-8']))\n"
              "print(' '.join(f'{value:.4f}' for value in out['probability'].numpy()))\n")
    fresh = run_python("-c", script, str(tmp_path / "tuned-export"))
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert all(0 <= float(value) <= 1 for value in fresh.stdout.split()) and len(fresh.stdout.split()) == 3
