"""`python -m tasks.speech`: its commands and errors on a tiny FSDD archive of tones (in this process, fast), the
export reloaded in a fresh process, and a short run on the real recordings."""

import json

import numpy as np
import pytest

from keras_apps.data import locate, spoken_digits
from keras_apps.demo.answers import SpokenDigitAnswers
from keras_apps.errors import UserError
from tasks import speech as task
from tests.conftest import (
    TINY_FSDD, another_tone_at, run_cli, run_python, tiny_fsdd_members, wav_bytes, write_fsdd_archive,
)

SMALL = ["--epochs", "1", "--batch-size", "8", "--num-mel-bins", "16"]


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    write_fsdd_archive(tmp_path, tiny_fsdd_members())
    monkeypatch.setattr(spoken_digits, "EXPECTED", TINY_FSDD)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.speech" in out


@pytest.mark.parametrize("argv, message", [
    (["--hold-out-speaker", "lucas"], "argument --hold-out-speaker: invalid choice: 'lucas'"),
    (["--num-mel-bins", "0"], "argument --num-mel-bins: must be at least 1, got 0"),
    (["--dropout", "1"], "argument --dropout: must be in [0, 1), got 1.0"),
    (["--num-mel-bins", "100000"], "--num-mel-bins must be from 8 (halved by each of 3 blocks) to 129 (the "
     "frequency bins of a 256-sample frame), got 100000"),  # a segmentation fault in TensorFlow otherwise
    (["--num-mel-bins", "130"], "to 129"), (["--num-mel-bins", "4"], "must be from 8"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_missing_data_and_a_bad_wav_are_one_line(tmp_path, capsys, monkeypatch):
    def no_network(remote, directory):
        raise OSError("no network")

    monkeypatch.delenv("KERAS_APPS_DATA", raising=False)
    monkeypatch.setattr(locate, "_download", no_network)
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and "free-spoken-digit-dataset-1.0.9.tar.gz" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
    (tmp_path / "click.wav").write_bytes(wav_bytes(np.full(1000, 8000), rate=44100, channels=2))  # 182 at 8 kHz
    status, _, err = run_task(["predict", str(tmp_path / "click.wav"), "--export-dir", str(tmp_path)], capsys)
    assert status == 2 and "click.wav holds 182 samples (22.8 ms); a recording needs at least 256" in err


def test_train_exports_a_model_a_fresh_process_hears_alike(tiny, capsys):
    exports = tiny / "exports"
    status, out, err = run_task([*SMALL, "--room-noise", "--data-dir", str(tiny), "--run-dir", str(tiny / "run"),
                                 "--export-dir", str(exports)], capsys)
    assert status == 0, err
    metrics = json.loads((tiny / "run" / "metrics.json").read_text())
    assert metrics["model"] == "speech" and metrics["export"] == str(exports / "1")
    config = json.loads((tiny / "run" / "config.json").read_text())
    assert config["train_examples"] == 40 and config["validation_examples"] == 100  # indices 10-11, then 5-9
    assert config["room_noise"] and json.loads((exports / "1" / "export.json").read_text())["room_noise"]
    assert "Spoken digits, tested on the official test split" in (tiny / "run" / "report.md").read_text()
    for name in ("3_ann_0.wav", "7_bob_4.wav"):
        (tiny / name).write_bytes(tiny_fsdd_members()[f"recordings/{name}"])
    status, here, _ = run_task(["predict", str(tiny / "3_ann_0.wav"), str(tiny / "7_bob_4.wav"),
                                "--export-dir", str(exports)], capsys)
    assert status == 0 and len(here.splitlines()) == 2
    fresh = run_python("-m", "tasks.speech", "predict", str(tiny / "3_ann_0.wav"), str(tiny / "7_bob_4.wav"),
                       "--export-dir", str(exports))
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert fresh.stdout == here
    status, out, _ = run_task(["evaluate", "--data-dir", str(tiny), "--export-dir", str(exports)], capsys)
    assert status == 0 and f"test accuracy {metrics['test']['accuracy']:.4f}" in out and "100 recordings" in out

    tab = SpokenDigitAnswers(exports)  # what the demo's spoken-digit tab serves
    probabilities = tab.answer(tiny / "3_ann_0.wav")
    assert here.splitlines()[0].endswith(f": {probabilities.argmax()} ({probabilities.max():.3f})")
    samples = np.round(32768 * spoken_digits.read_wav(tiny / "3_ann_0.wav"))
    upsampled = np.interp(np.arange(2 * len(samples)) / 2, np.arange(len(samples)), samples)  # 16 kHz...
    (tiny / "stereo.wav").write_bytes(wav_bytes(upsampled, rate=16000, channels=2))  # ...on two channels
    np.testing.assert_allclose(tab.answer(tiny / "stereo.wav"), probabilities, atol=0.05)
    status, resampled, err = run_task(["predict", str(tiny / "stereo.wav"), "--export-dir", str(exports)], capsys)
    assert status == 0, err  # the command hears it as the page does
    assert resampled.split(": ")[1].split()[0] == here.splitlines()[0].split(": ")[1].split()[0]
    (tiny / "notes.wav").write_text("not audio")
    for path, message in ((tiny / "notes.wav", "notes.wav is not a readable WAV file"), (None, "record or upload")):
        with pytest.raises(UserError, match=message):
            tab.answer(path)


def test_resuming_a_run_folder_with_other_validation_recordings_is_refused_and_changes_nothing(tiny, capsys):
    argv = [*SMALL, "--data-dir", str(tiny), "--run-dir", str(tiny / "run"), "--export-dir", str(tiny / "exports")]
    status, _, err = run_task(argv, capsys)
    assert status == 0, err
    (tiny / "run" / "metrics.json").unlink()  # as if killed before its last file
    recorded = (tiny / "run" / "config.json").read_text()
    write_fsdd_archive(tiny, tiny_fsdd_members(**another_tone_at(range(5, 10))))  # validation recordings
    status, _, err = run_task(argv, capsys)  # its best epoch would be chosen across two validation sets
    assert status == 2 and "started with other settings: data" in err and err.count("\n") == 1, err
    assert (tiny / "run" / "config.json").read_text() == recorded
    assert not (tiny / "run" / "metrics.json").exists()


def test_holding_out_a_speaker_tests_on_that_speaker_only(tiny, capsys):
    status, out, err = run_task([*SMALL, "--hold-out-speaker", "bob", "--data-dir", str(tiny),
                                 "--run-dir", str(tiny / "run"), "--export-dir", str(tiny / "exports")], capsys)
    assert status == 0, err
    assert "70 train, 50 validation, 120 test recordings (speaker bob)" in out
    assert json.loads((tiny / "exports" / "1" / "export.json").read_text())["split"] == "bob"
    tested = json.loads((tiny / "run" / "metrics.json").read_text())["test"]
    # evaluated later, on bob's recordings again: the official test split holds the other speakers' training ones
    status, out, _ = run_task(["evaluate", "--data-dir", str(tiny), "--export-dir", str(tiny / "exports")], capsys)
    assert status == 0 and f"test accuracy {tested['accuracy']:.4f}, loss " in out
    assert out.endswith(" on 120 recordings (speaker bob, held out in training)\n")


@pytest.mark.real_data
def test_a_short_run_on_the_real_recordings_learns_and_hears_a_recording_as_fsdd_s_own(real_fsdd_dir, tmp_path,
                                                                                       capsys):
    trained = run_python("-m", "tasks.speech", "--epochs", "2", "--data-dir", str(real_fsdd_dir),
                         "--run-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "exports"))
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.8  # chance: 0.1; two epochs reached 0.87 here

    # Ten test recordings as FSDD has them, then as a microphone records them, with a second of a quiet room
    # (-70 dBFS) before and after the word: heard alike, the silence cut off as FSDD's was.
    _, test = spoken_digits.load(real_fsdd_dir).official_split()
    room = np.random.default_rng(0).normal(0, 10 ** (-70 / 20), 8000)
    files = []
    for index in range(0, 250, 25):
        wave = test.waveforms[index]
        for name, wave in (("fsdd", wave), ("room", np.concatenate([room, wave, room]))):
            files.append(tmp_path / f"{name}{index}.wav")
            files[-1].write_bytes(wav_bytes(np.round(32767 * np.clip(wave, -1, 1)).astype(int)))
    status, out, err = run_task(["predict", *map(str, files), "--export-dir", str(tmp_path / "exports")], capsys)
    assert status == 0, err
    digits = [line.split(": ")[1].split()[0] for line in out.splitlines()]
    assert digits[1::2] == digits[0::2]


@pytest.mark.parametrize("room_noise", [True, False])
def test_train_passes_its_flags_to_the_training_recordings(room_noise, tiny, capsys, monkeypatch):
    """--room-noise, --seed and --batch-size reach the training pipeline, not only the records of the run."""
    called = {}

    def stop(*args, **kwargs):
        called.update(args=args, kwargs=kwargs)
        raise UserError("stopped here by the test")

    monkeypatch.setattr(spoken_digits, "waveform_dataset", stop)
    status, _, err = run_task([*SMALL, "--seed", "5", *(["--room-noise"] if room_noise else []),
                               "--data-dir", str(tiny), "--run-dir", str(tiny / "run")], capsys)
    assert status == 2 and "stopped here by the test" in err
    (train_split, batch_size), kwargs = called["args"], called["kwargs"]
    assert len(train_split) == 40 and batch_size == 8  # indices 10-11 of each speaker and digit
    assert kwargs == dict(shuffle=True, seed=5, rooms=room_noise)


def test_recording_probabilities_gives_each_recording_its_own_length():
    """The export cuts silence off at each recording's end: the zeros that pad a batch to its longest are not it."""
    import tensorflow as tf

    seen = []

    def serve(audio, lengths):
        seen.append((audio.copy(), lengths.copy()))
        return {"probabilities": tf.one_hot(lengths % 10, 10)}

    waveforms = [np.full(n, 0.5, np.float32) for n in (300, 500, 400)]
    probabilities = task.recording_probabilities(serve, waveforms, batch_size=2)
    assert [lengths.tolist() for _, lengths in seen] == [[300, 500], [400]]
    assert [audio.shape for audio, _ in seen] == [(2, 500), (1, 400)]
    assert not seen[0][0][0, 300:].any() and seen[0][0][0, :300].all()  # zero-padded after its own samples
    assert probabilities.argmax(axis=1).tolist() == [0, 0, 0]
    assert probabilities.shape == (3, 10)


@pytest.mark.parametrize("num_mel_bins", [8, 129])
def test_the_fewest_and_the_most_mel_bins_are_accepted(num_mel_bins):
    assert task.SpeechClassifier(num_mel_bins=num_mel_bins).num_mel_bins == num_mel_bins


@pytest.mark.parametrize("split, tested", [("ann", "ann"), ("official", "official"), (None, "official")])
def test_evaluate_scores_an_export_on_the_split_it_was_trained_for(split, tested, tmp_path, capsys, monkeypatch):
    """An export trained holding out any speaker is evaluated on that speaker's recordings, one trained on the official
    split (or recording no split) on the official test split (the export and the recordings stubbed: the command
    stops as it picks the test recordings)."""
    from keras_apps.export import saved_model

    class Stop(BaseException):
        pass

    picked = []

    class Recordings:
        def official_split(self):
            picked.append("official")
            raise Stop

        def leave_out(self, speaker):
            picked.append(speaker)
            raise Stop

    monkeypatch.setattr(saved_model, "load_serving", lambda export_dir, task: (tmp_path / "1", "serve"))
    monkeypatch.setattr(saved_model, "export_metadata", lambda path: {} if split is None else {"split": split})
    monkeypatch.setattr(spoken_digits, "load", lambda data_dir: Recordings())
    with pytest.raises(Stop):
        run_task(["evaluate", "--data-dir", str(tmp_path), "--export-dir", str(tmp_path / "exports")], capsys)
    assert picked == [tested]
