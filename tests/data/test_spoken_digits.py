"""The FSDD reader: a tiny archive in the release's layout written here (fast), and the real archive from the
data directory (its counts, lengths and splits)."""

import io
import tarfile
import wave

import numpy as np
import pytest

from keras_apps.data import spoken_digits
from keras_apps.errors import UserError

TINY = {"speakers": ("ann", "bob"), "recordings": 6}
ROOT = "free-spoken-digit-dataset-1.0.9"


def wav_bytes(samples, rate=8000, channels=1):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(np.repeat(np.asarray(samples, "<i2"), channels).tobytes())
    return buffer.getvalue()


def write_archive(directory, members):
    with tarfile.open(directory / spoken_digits.FSDD_FILE.name, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{ROOT}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def tiny_members(**replace):
    """Every digit by each tiny speaker, `recordings` times; recording n of digit d has d * 1000 + n + 1 samples."""
    members = {f"recordings/{digit}_{speaker}_{index}.wav": wav_bytes(np.full(digit * 1000 + index + 1, 100 * digit))
               for digit in range(10) for speaker in TINY["speakers"] for index in range(TINY["recordings"])}
    members["README.md"] = b"FSDD"
    return {**members, **replace}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setattr(spoken_digits, "EXPECTED", TINY)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_reads_every_recording_with_its_digit_speaker_and_index(tiny):
    write_archive(tiny, tiny_members())
    recordings = spoken_digits.load(tiny)
    assert len(recordings) == 120
    first = recordings.waveforms[0]
    assert recordings.labels[0] == 0 and recordings.speakers[0] == "ann" and recordings.indices[0] == 0
    assert first.dtype == np.float32 and len(first) == 1
    three = np.flatnonzero((recordings.labels == 3) & (recordings.indices == 2))[0]
    assert len(recordings.waveforms[three]) == 3003
    np.testing.assert_allclose(recordings.waveforms[three], 300 / 32768)


def test_the_official_split_tests_indices_0_to_4_and_a_speaker_can_be_held_out(tiny):
    write_archive(tiny, tiny_members())
    train, test = spoken_digits.load(tiny).official_split()
    assert sorted(set(test.indices)) == [0, 1, 2, 3, 4] and set(train.indices) == {5}
    assert len(train) == 20 and len(test) == 100
    others, bob = spoken_digits.load(tiny).leave_out("bob")
    assert set(bob.speakers) == {"bob"} and set(others.speakers) == {"ann"} and len(bob) == 60
    with pytest.raises(UserError, match="no speaker 'carl'; the speakers are ann, bob"):
        spoken_digits.load(tiny).leave_out("carl")


@pytest.mark.parametrize("members, message", [
    (tiny_members(**{"recordings/3_bob_5.wav": b"RIFF????WAVEjunk"}), "3_bob_5.wav is not a readable WAV file"),
    (tiny_members(**{"recordings/3_bob_5.wav": wav_bytes([1, 2], rate=16000)}), "at 16000 Hz; expected mono 8000 Hz"),
    (tiny_members(**{"recordings/3_bob_5.wav": wav_bytes([1, 2], channels=2)}), "2-channel audio"),
    (tiny_members(**{"recordings/3_carl_0.wav": wav_bytes([1])}), "1 unexpected (e.g. 3_carl_0.wav)"),
    (tiny_members(**{"recordings/notes.wav": wav_bytes([1])}), "is not named <digit>_<speaker>_<index>.wav"),
    ({"README.md": b"x"}, "does not hold free-spoken-digit-dataset-1.0.9/recordings/"),
])
def test_a_damaged_archive_is_one_line(tiny, members, message):
    write_archive(tiny, members)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        spoken_digits.load(tiny)


def test_a_missing_recording_is_named(tiny):
    members = tiny_members()
    del members["recordings/9_ann_5.wav"]
    write_archive(tiny, members)
    with pytest.raises(UserError, match=r"119 files, 1 missing and 0 unexpected \(e\.g\. 9_ann_5\.wav\)"):
        spoken_digits.load(tiny)


def test_batches_are_padded_with_each_recording_s_length(tiny):
    write_archive(tiny, tiny_members())
    recordings = spoken_digits.load(tiny).select(np.arange(120) < 3)  # digit 0 by ann: 1, 2 and 3 samples
    inputs, labels = next(iter(spoken_digits.waveform_dataset(recordings, batch_size=3)))
    assert inputs["audio"].shape == (3, 3) and inputs["lengths"].numpy().tolist() == [1, 2, 3]
    assert labels.numpy().tolist() == [0, 0, 0] and float(inputs["audio"][0, 1]) == 0.0  # padding


@pytest.mark.real_data
def test_the_real_archive_is_the_v1_0_9_release(real_fsdd_dir):
    recordings = spoken_digits.load(real_fsdd_dir)
    lengths = np.array([len(wave) for wave in recordings.waveforms])
    assert len(recordings) == 2500 and lengths.min() == 1148 and lengths.max() == 18262
    assert np.median(lengths) == 3188
    assert np.bincount(recordings.labels).tolist() == [250] * 10
    train, test = recordings.official_split()
    assert (len(train), len(test)) == (2250, 250)
    others, theo = recordings.leave_out("theo")
    assert (len(others), len(theo)) == (2000, 500)
    assert all(np.abs(wave).max() <= 1.0 for wave in recordings.waveforms)
