"""`python -m tasks.multimodal`: its commands and errors, a tiny run on tones and random images (in this process,
fast) whose export a fresh process reloads, and a short run on the real recordings and digits."""

import json

import numpy as np
import pytest
import tensorflow as tf

from bench import results
from bench.multimodal import fusion_row
from keras_apps.data import spoken_digits
from keras_apps.export.saved_model import load_serving, versions
from tasks import multimodal as task
from tests.conftest import (
    TINY_FSDD, another_tone_at, run_cli, run_python, tiny_fsdd_members, wav_bytes, write_fsdd_archive,
)
from tests.evaluate.html_check import check_page

SMALL = ["--epochs", "1", "--batch-size", "8", "--width", "8", "--images-per-recording", "2"]


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny FSDD archive of tones and an `mnist.npz` of random images whose labels cycle through the digits."""
    write_fsdd_archive(tmp_path, tiny_fsdd_members())
    generator = np.random.default_rng(0)
    np.savez_compressed(tmp_path / "mnist.npz",
                        x_train=generator.integers(0, 256, (300, 28, 28), dtype=np.uint8),
                        y_train=np.arange(300, dtype=np.uint8) % 10,
                        x_test=generator.integers(0, 256, (100, 28, 28), dtype=np.uint8),
                        y_test=np.arange(100, dtype=np.uint8) % 10)
    monkeypatch.setattr(spoken_digits, "EXPECTED", TINY_FSDD)
    monkeypatch.setattr(task.mnist, "SIZES", {"train": 300, "test": 100})
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.multimodal" in out


@pytest.mark.parametrize("argv, message", [
    (["--fusion", "average"], "argument --fusion: invalid choice: 'average'"),
    (["--snr-db", "nan"], "argument --snr-db: expected a finite number, got 'nan'"),
    (["--kept-variance", "1"], "argument --kept-variance: must be strictly between 0 and 1, got 1.0"),
    (["--modality-dropout", "1"], "argument --modality-dropout: must be in [0, 1), got 1.0"),
    (["--fusion", "image", "--modality-dropout", "0.9", "--snr-db", "30", "--kept-variance", "0.5"],
     "--fusion image: a model of the image alone has no use for --modality-dropout, --snr-db; leave them out"),
    (["--fusion", "audio", "--kept-variance", "0.5", "--snr-db", "30"],
     "--fusion audio: a model of the audio alone has no use for --kept-variance; leave it out"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_predict_refuses_what_is_not_a_digit_to_see_or_hear_in_one_line(tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "big.png")
    (tmp_path / "long.wav").write_bytes(wav_bytes(np.round(8000 * np.sin(np.arange(11 * 8000))).astype(int)))
    for argv, message in ((["predict"], "give an image (--image), a recording (--audio), or both"),
                          (["predict", "--image", str(tmp_path / "big.png")], "big.png: the picture is blank"),
                          (["predict", "--audio", str(tmp_path / "long.wav")], "lasts 11.0 s")):
        status, _, err = run_task([*argv, "--export-dir", str(tmp_path)], capsys)
        assert status == 2 and message in err and err.count("\n") == 1, err


def test_train_exports_a_model_that_answers_with_either_sense_and_a_fresh_process_alike(tiny, capsys):
    exports = tiny / "exports"
    status, out, err = run_task([*SMALL, "--data-dir", str(tiny), "--run-dir", str(tiny / "run"),
                                 "--export-dir", str(exports)], capsys)
    assert status == 0, err
    assert "80 train, 200 validation, 400 test pairs" in out  # recordings 10-11, 5-9 and 0-4 of 2 speakers
    metrics = json.loads((tiny / "run" / "metrics.json").read_text())
    conditions = metrics["extra"]["conditions"]
    assert set(conditions) == set(task.CONDITIONS)
    assert metrics["test"]["accuracy"] == conditions["clean"]
    assert set(metrics["extra"]["sense_shares"]) == {"clean", "degraded"}
    report = (tiny / "run" / "report.md").read_text()
    assert "Test accuracy by condition, and what each sense decided" in report and "confusion_matrix.png" in report
    recorded = json.loads((exports / "1" / "export.json").read_text())
    assert recorded["fusion"] == "gated" and recorded["degradations"]["snr_db"] == -5.0
    card = (exports / "1" / "MODEL_CARD.md").read_text()  # every condition, and which one the card's metrics are
    assert "under each condition (the metrics above: clean)" in card
    assert all(f"| {name} | {value:.4f} |" in card for name, value in conditions.items())

    (tiny / "3.wav").write_bytes(tiny_fsdd_members()["recordings/3_ann_0.wav"])
    np.save(tiny / "3.npy", np.load(tiny / "mnist.npz")["x_test"][3])
    both = ["predict", "--image", str(tiny / "3.npy"), "--audio", str(tiny / "3.wav"), "--export-dir", str(exports)]
    status, here, _ = run_task(both, capsys)
    assert status == 0 and "from the image and the audio" in here.splitlines()[0]
    assert "the image alone:" in here.splitlines()[1] and "from the audio" in here.splitlines()[1]
    fresh = run_python("-m", "tasks.multimodal", *both)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert fresh.stdout == here
    np.save(tiny / "blank.npy", np.zeros((28, 28), np.uint8))  # no ink: the audio's answer, and no "alone" line
    status, out, err = run_task(["predict", "--image", str(tiny / "blank.npy"), *both[3:]], capsys)
    assert status == 0 and out.splitlines() == [here.splitlines()[1].split("the audio alone: ")[1]], err
    status, _, err = run_task([*SMALL, "--fusion", "image", "--data-dir", str(tiny), "--run-dir",
                               str(tiny / "image"), "--export-dir", str(exports)], capsys)
    assert status == 2 and "holds multimodal exports of senses 'image and audio'" in err, err
    status, out, _ = run_task(["evaluate", "--data-dir", str(tiny), "--export-dir", str(exports)], capsys)
    assert status == 0 and all(f"{name} {value:.4f}" in out for name, value in conditions.items())

    (tiny / "run" / "metrics.json").unlink()  # as if killed before its last file: the rerun finishes the run
    status, _, err = run_task([*SMALL, "--snr-db", "0", "--data-dir", str(tiny), "--run-dir", str(tiny / "run"),
                               "--export-dir", str(exports)], capsys)
    assert status == 2 and "started with other settings: model" in err and "'snr_db': -5.0" in err
    status, out, err = run_task([*SMALL, "--data-dir", str(tiny), "--run-dir", str(tiny / "run"),
                                 "--export-dir", str(exports)], capsys)
    assert status == 0 and "Training ended in an earlier attempt" in out, err
    assert versions(exports) == [1] and json.loads((tiny / "run" / "metrics.json").read_text())["extra"] == \
        metrics["extra"]

    _, serve = load_serving(exports, task="multimodal")
    with pytest.raises(tf.errors.InvalidArgumentError, match="every example needs image or audio"):
        serve(image=np.zeros((1, 28, 28), np.uint8), audio=np.zeros((1, 10), np.float32),
              lengths=np.zeros(1, np.int32))


def test_resuming_a_run_folder_with_other_recordings_or_validation_images_is_refused_and_changes_nothing(
        tiny, capsys, monkeypatch):
    from keras_apps.data import audio_visual

    argv = [*SMALL, "--fusion", "audio", "--data-dir", str(tiny), "--run-dir", str(tiny / "run"),
            "--export-dir", str(tiny / "exports")]
    status, _, err = run_task(argv, capsys)
    assert status == 0, err
    (tiny / "run" / "metrics.json").unlink()  # as if killed before its last file
    recorded = (tiny / "run" / "config.json").read_text()
    fit = audio_visual.PrincipalComponents.fit

    def in_other_last_bits(cls, *args, **kwargs):  # as another BLAS thread count computes them
        made = fit(*args, **kwargs)
        return cls(np.nextafter(made.mean, np.inf), np.nextafter(made.components, np.inf))

    with monkeypatch.context() as patch:  # the same images' components: the same data, and the run resumes
        patch.setattr(audio_visual.PrincipalComponents, "fit", classmethod(in_other_last_bits))
        status, _, err = run_task(argv, capsys)
    assert status == 0, err
    (tiny / "run" / "metrics.json").unlink()
    write_fsdd_archive(tiny, tiny_fsdd_members(**another_tone_at((10, 11))))  # training recordings
    status, _, err = run_task(argv, capsys)  # it would test and publish a model of recordings it never heard
    assert status == 2 and "started with other settings: data" in err and err.count("\n") == 1, err
    write_fsdd_archive(tiny, tiny_fsdd_members())
    with np.load(tiny / "mnist.npz") as stored:
        arrays = dict(stored)
    arrays["x_train"][-30:] = 255 - arrays["x_train"][-30:]  # the validation images only, their labels kept
    np.savez_compressed(tiny / "mnist.npz", **arrays)
    status, _, err = run_task(argv, capsys)
    assert status == 2 and "started with other settings: data" in err and err.count("\n") == 1, err
    assert (tiny / "run" / "config.json").read_text() == recorded and versions(tiny / "exports") == [1]
    assert not (tiny / "run" / "metrics.json").exists()


def test_a_one_sense_model_is_tested_only_where_it_has_its_sense(tiny, capsys):
    exports = tiny / "exports"
    status, _, err = run_task([*SMALL, "--fusion", "image", "--data-dir", str(tiny), "--run-dir",
                               str(tiny / "run"), "--export-dir", str(exports)], capsys)
    assert status == 0, err
    conditions = json.loads((tiny / "run" / "metrics.json").read_text())["extra"]["conditions"]
    assert set(conditions) == {"clean", "degraded", "image alone", "degraded image alone"}
    (tiny / "3.wav").write_bytes(tiny_fsdd_members()["recordings/3_ann_0.wav"])
    status, _, err = run_task(["predict", "--audio", str(tiny / "3.wav"), "--export-dir", str(exports)], capsys)
    assert status == 2 and "is a model of the image alone: give --image" in err
    np.save(tiny / "blank.npy", np.zeros((28, 28), np.uint8))
    status, _, err = run_task(["predict", "--image", str(tiny / "blank.npy"), "--audio", str(tiny / "3.wav"),
                               "--export-dir", str(exports)], capsys)
    assert status == 2 and "image alone: give --image (" in err and "blank.npy is blank" in err, err


@pytest.mark.real_data
def test_a_short_run_on_the_real_digits_hears_and_sees(real_fsdd_dir, tmp_path):
    trained = run_python("-m", "tasks.multimodal", "--fusion", "late", "--epochs", "1", "--images-per-recording", "1",
                         "--data-dir", str(real_fsdd_dir), "--run-dir", str(tmp_path / "run"),
                         "--export-dir", str(tmp_path / "exports"))
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    conditions = metrics["extra"]["conditions"]
    assert conditions["clean"] > 0.8, conditions  # chance: 0.1
    assert metrics["extra"]["degradations"]["principal_components"] == 4  # 25 % of MNIST's variance
    text, images = check_page((tmp_path / "run" / "report.html").read_text())
    assert "what each sense decided" in text and "decided by the audio" in text and len(images) == 3
    table = results.table({"multimodal-late": fusion_row("late", [(metrics, 1.0)])})
    assert f"| `python -m tasks.multimodal --fusion late` | {100 * conditions['clean']:.2f} % |" in table


def test_training_builds_and_tests_with_the_flags_given_on_the_fixed_test_pairs(tiny, capsys, monkeypatch):
    """--width and --modality-dropout reach the model, --snr-db the test's noisy audio, and the test pairs are the
    same whatever --seed trains (training stubbed: the run stops as testing starts)."""
    from types import SimpleNamespace

    from keras_apps.lifecycle import Run
    from keras_apps.models import fusion

    class Stop(BaseException):
        pass

    built, tested = [], {}

    def fit(self, build_model, *args, **kwargs):
        build_model()
        return SimpleNamespace(is_chief=True, model=None)

    def condition_probabilities(probabilities_of, test, components, snr_db, conditions, batch_size=64):
        tested.update(test=test, snr_db=snr_db, conditions=conditions)
        raise Stop

    monkeypatch.setattr(fusion, "build_digit_fusion", lambda name, **kwargs: built.append((name, kwargs)))
    monkeypatch.setattr(Run, "fit", fit)
    monkeypatch.setattr(task, "condition_probabilities", condition_probabilities)
    with pytest.raises(Stop):
        run_task([*SMALL, "--fusion", "late", "--modality-dropout", "0.2", "--snr-db", "3", "--seed", "5",
                  "--data-dir", str(tiny), "--run-dir", str(tiny / "run"), "--export-dir", str(tiny / "exports")],
                 capsys)
    assert built == [("late", {"width": 8, "modality_dropout": 0.2, "seed": 5})]
    assert tested["snr_db"] == 3 and tested["conditions"] == task.conditions_for("late")
    fixed = task.load_splits(tiny, 2, 0, 0.25)[2]  # as `evaluate` makes them
    assert np.array_equal(tested["test"].labels, fixed.labels) and np.array_equal(tested["test"].images, fixed.images)


def test_evaluate_tests_an_export_as_it_was_trained(tmp_path, capsys, monkeypatch):
    """The degradations and senses the export records (not the defaults) make the conditions it is tested under
    (the export and the data stubbed)."""
    from keras_apps.export import saved_model

    made, tested = {}, {}
    labels = np.arange(10)

    class Pairs:  # the test pairs, as far as `evaluate` reads them
        def __init__(self):
            self.labels = labels

        def __len__(self):
            return len(labels)
    recorded = {"fusion": "image", "degradations": {"kept_variance": 0.6, "principal_components": 9, "snr_db": 7.0}}

    def load_splits(data_dir, per_recording, seed, kept_variance):
        made["kept_variance"] = kept_variance
        return None, None, Pairs(), "components"

    def condition_probabilities(probabilities_of, test, components, snr_db, conditions, batch_size=64):
        tested.update(components=components, snr_db=snr_db, conditions=conditions)
        return {name: np.eye(10)[labels] for name in conditions}

    monkeypatch.setattr(saved_model, "load_serving", lambda path, task: (tmp_path, None))
    monkeypatch.setattr(saved_model, "export_metadata", lambda path: recorded)
    monkeypatch.setattr(task, "load_splits", load_splits)
    monkeypatch.setattr(task, "condition_probabilities", condition_probabilities)
    status, out, err = run_task(["evaluate", "--data-dir", str(tmp_path), "--export-dir", str(tmp_path)], capsys)
    assert status == 0, err
    assert made["kept_variance"] == 0.6 and tested["snr_db"] == 7.0 and tested["components"] == "components"
    assert tested["conditions"] == task.conditions_for("image") and "audio alone" not in out
