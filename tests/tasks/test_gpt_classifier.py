"""`python -m tasks.gpt_classifier`: GPT-1's recipe on a tiny archive of reviews in the real layout, fine-tuned
from the tiny SFT model (the `tiny_sft` fixture), its export classifying raw texts in a fresh process (the
network from scratch: tests/preference/test_models.py)."""

import json

import pytest

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


def test_from_scratch_and_seed_reach_the_network_the_shuffle_and_the_export(tmp_path, capsys, monkeypatch):
    """--from-scratch reaches the network, its name and the export's record; --seed the shuffle (the SFT export,
    the reviews and training stubbed: the run stops as it would export)."""
    from types import SimpleNamespace

    import numpy as np

    from keras_apps.inference import serving
    from keras_apps.lifecycle import Run
    from keras_apps.preference import models, openings, stages

    class Stop(BaseException):
        pass

    class Reviews:
        def __init__(self, count):
            self.texts, self.labels = [f"review {index}" for index in range(count)], np.arange(count) % 2

        def __len__(self):
            return len(self.texts)

    class Model:
        def predict(self, inputs, **kwargs):
            return np.zeros((len(inputs), 1), np.float32)

    seen = {}
    splits = SimpleNamespace(train=Reviews(40), validation=Reviews(8), test=Reviews(6), fingerprint=lambda: "reviews",
                             sizes=lambda: {"train_examples": 40, "validation_examples": 8, "test_examples": 6})
    sft = SimpleNamespace(path=tmp_path / "sft", metadata={"model": {"context_length": 16}}, build_model=lambda: "gpt",
                          record=lambda: {"init_from": str(tmp_path / "sft")})

    def opening_splits(tokenizer, splits, targets, length, batch_size, *, seed=0):
        seen["shuffle_seed"] = seed
        return "train", "validation"

    def build_classifier(gpt, *, from_scratch=False, name="gpt_classifier"):
        seen["from_scratch"] = from_scratch
        return Model()

    def finish(self, result, model_name, export, *args, **kwargs):
        seen.update(name=model_name, metadata=export.metadata)
        raise Stop

    monkeypatch.setattr(stages, "sft_stage", lambda handle, run_dir: (sft, "tokenizer"))
    monkeypatch.setattr(imdb, "run_splits", lambda data_dir, **kwargs: splits)
    monkeypatch.setattr(openings, "opening_splits", opening_splits)
    monkeypatch.setattr(openings, "review_openings", lambda tokenizer, texts, length: list(texts))
    monkeypatch.setattr(models, "build_classifier", build_classifier)
    monkeypatch.setattr(serving, "text_classifier_endpoints", lambda model, encode: {})
    monkeypatch.setattr(Run, "fit", lambda self, build, *args, **kwargs: SimpleNamespace(is_chief=True, model=build()))
    monkeypatch.setattr(Run, "finish", finish)
    with pytest.raises(Stop):
        run_cli(task.main, ["--from-scratch", "--seed", "4", "--batch-size", "8", "--run-dir", str(tmp_path / "run"),
                            "--export-dir", str(tmp_path / "export")], capsys)
    assert seen["from_scratch"] is True and seen["shuffle_seed"] == 4
    assert seen["name"] == "gpt-from-scratch" and seen["metadata"]["from_scratch"] is True


@pytest.mark.parametrize("train, validation, message", [(5, 8, "5 training reviews are fewer than one batch of 8"),
                                                        (40, 0, "no reviews are left for validation")])
def test_reviews_too_few_to_train_a_batch_or_validate_are_refused_before_the_run_opens(
        tmp_path, capsys, monkeypatch, train, validation, message):
    """Fewer training reviews than one batch (no step would train) or none to validate on: one line, before the run's
    folder opens (the SFT export and the reviews stubbed; training, were it reached, stops the test)."""
    from types import SimpleNamespace

    from keras_apps.lifecycle import Run
    from keras_apps.preference import stages

    class Stop(BaseException):
        pass

    def fit(self, *args, **kwargs):
        raise Stop

    class Reviews:
        def __init__(self, count):
            self.texts = [f"review {index}" for index in range(count)]
            self.labels = [index % 2 for index in range(count)]

        def __len__(self):
            return len(self.texts)

    splits = SimpleNamespace(train=Reviews(train), validation=Reviews(validation), test=Reviews(6),
                             fingerprint=lambda: "reviews",
                             sizes=lambda: {"train_examples": train, "validation_examples": validation,
                                            "test_examples": 6})
    sft = SimpleNamespace(path=tmp_path / "sft", metadata={"model": {"context_length": 16}}, build_model=lambda: "gpt",
                          record=lambda: {"init_from": str(tmp_path / "sft")})
    monkeypatch.setattr(stages, "sft_stage", lambda handle, run_dir: (sft, "tokenizer"))
    monkeypatch.setattr(imdb, "run_splits", lambda data_dir, **kwargs: splits)
    monkeypatch.setattr(Run, "fit", fit)
    status, _, err = run_cli(task.main, ["--batch-size", "8", "--run-dir", str(tmp_path / "run"),
                                         "--export-dir", str(tmp_path / "export")], capsys)
    assert status == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
