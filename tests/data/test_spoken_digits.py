"""The FSDD reader: a tiny archive in the release's layout written here (fast), and the real archive from the
data directory (its counts, lengths and splits)."""

import io

import numpy as np
import pytest

from keras_apps.data import spoken_digits
from keras_apps.errors import UserError
from tests.conftest import TINY_FSDD as TINY
from tests.conftest import tiny_fsdd_members as tiny_members
from tests.conftest import wav_bytes
from tests.conftest import write_fsdd_archive as write_archive


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setattr(spoken_digits, "EXPECTED", TINY)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_reads_every_recording_with_its_digit_speaker_and_index(tiny):
    write_archive(tiny, tiny_members())
    recordings = spoken_digits.load(tiny)
    assert len(recordings) == 240
    first = recordings.waveforms[0]
    assert recordings.labels[0] == 0 and recordings.speakers[0] == "ann" and recordings.indices[0] == 0
    assert first.dtype == np.float32 and len(first) == 1200
    three = np.flatnonzero((recordings.labels == 3) & (recordings.indices == 2))[0]
    assert len(recordings.waveforms[three]) == 1502
    assert np.abs(recordings.waveforms[three]).max() == pytest.approx(8000 / 32768, abs=1e-3)


def test_the_official_split_tests_indices_0_to_4_and_a_speaker_can_be_held_out(tiny):
    write_archive(tiny, tiny_members())
    train, test = spoken_digits.load(tiny).official_split()
    assert sorted(set(test.indices)) == [0, 1, 2, 3, 4] and set(train.indices) == set(range(5, 12))
    assert len(train) == 140 and len(test) == 100
    others, bob = spoken_digits.load(tiny).leave_out("bob")
    assert set(bob.speakers) == {"bob"} and set(others.speakers) == {"ann"} and len(bob) == 120
    with pytest.raises(UserError, match="no speaker 'carl'; the speakers are ann, bob"):
        spoken_digits.load(tiny).leave_out("carl")


@pytest.mark.parametrize("members, message", [
    (tiny_members(**{"recordings/3_bob_5.wav": b"RIFF????WAVEjunk"}), "3_bob_5.wav is not a readable WAV file"),
    (tiny_members(**{"recordings/3_bob_5.wav": wav_bytes([1, 2], rate=16000)}), "at 16000 Hz; expected mono 8000 Hz"),
    (tiny_members(**{"recordings/3_bob_5.wav": wav_bytes([1, 2], channels=2)}), "2-channel audio"),
    (tiny_members(**{"recordings/3_carl_0.wav": wav_bytes([1])}), "1 unexpected (e.g. 3_carl_0.wav)"),
    (tiny_members(**{"recordings/3_carl_0.wav": wav_bytes([1])}),
     "if this comes back, free-spoken-digit-dataset-1.0.9.tar.gz itself is not the v1.0.9 release: fetch it again"),
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
    with pytest.raises(UserError, match=r"239 files, 1 missing and 0 unexpected \(e\.g\. 9_ann_5\.wav\)"):
        spoken_digits.load(tiny)


def test_batches_are_padded_with_each_recording_s_length(tiny):
    write_archive(tiny, tiny_members())
    recordings = spoken_digits.load(tiny).select(np.arange(240) < 3)  # digit 0 by ann: 1,200 to 1,202 samples
    dataset = spoken_digits.waveform_dataset(recordings, batch_size=3)
    inputs, labels = next(iter(dataset))
    assert not dataset.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    assert inputs["audio"].shape == (3, 1202) and inputs["lengths"].numpy().tolist() == [1200, 1201, 1202]
    assert labels.numpy().tolist() == [0, 0, 0] and float(inputs["audio"][0, 1200]) == 0.0  # padding


def test_in_rooms_each_epoch_hears_each_recording_with_a_new_room_around_and_under_it(tiny):
    import tensorflow as tf

    write_archive(tiny, tiny_members())
    recordings = spoken_digits.load(tiny).select(np.arange(240) < 3)  # 1,200 to 1,202 samples each
    dataset = spoken_digits.waveform_dataset(recordings, batch_size=3, rooms=True)
    epochs = [next(iter(dataset))[0] for _ in range(2)]
    lengths = [inputs["lengths"].numpy() for inputs in epochs]
    assert all(((1200 <= row) & (row <= 1202 + 2 * spoken_digits.SAMPLE_RATE)).all() for row in lengths)
    assert lengths[0].tolist() != lengths[1].tolist()  # a new room each epoch
    again = next(iter(spoken_digits.waveform_dataset(recordings, batch_size=3, rooms=True)))[0]
    assert again["lengths"].numpy().tolist() == lengths[0].tolist()  # the same rooms for the same seed
    room = spoken_digits.in_a_room(tf.zeros([1000]), tf.constant([1, 2]), quietest_dbfs=-50.0, loudest_dbfs=-50.0,
                                   most_seconds=0)
    assert room.shape == (1000,)
    assert 20 * np.log10(np.sqrt(np.mean(np.square(room.numpy())))) == pytest.approx(-50, abs=0.5)


@pytest.mark.parametrize("data, message", [
    (wav_bytes(range(100))[:60], "is not a readable WAV file (Data too short when trying to read string)"),
    (b"hello", "is not a readable WAV file (Header mismatch: Expected RIFF but found hell)"),
    (wav_bytes([]), "holds 0 samples (0.0 ms); a recording needs at least 256 (32 ms, one analysis frame)"),
    (wav_bytes(np.ones(255, int)), "holds 255 samples (31.9 ms); a recording needs at least 256 (32 ms, one analysis "
     "frame)"),
    (wav_bytes(np.zeros(11 * 8000, int)), "lasts 11.0 s; a recording of one spoken digit lasts at most 10 s"),
    (wav_bytes([1, 2], channels=2), "is 2-channel audio at 8000 Hz; expected mono 8000 Hz"),
])
def test_a_file_that_is_not_one_spoken_digit_is_one_line(tmp_path, data, message):
    (tmp_path / "digit.wav").write_bytes(data)
    with pytest.raises(UserError) as raised:
        spoken_digits.read_wav(tmp_path / "digit.wav")
    assert str(raised.value) == f"{tmp_path / 'digit.wav'} {message}"


def test_a_recording_of_one_whole_frame_is_read(tmp_path):
    """The shortest recording the model hears something of: one analysis frame of its front end."""
    (tmp_path / "digit.wav").write_bytes(wav_bytes(np.ones(256, int)))
    assert spoken_digits.MIN_SAMPLES == 256 and spoken_digits.read_wav(tmp_path / "digit.wav").shape == (256,)


def test_a_user_s_recording_at_any_rate_and_channels_is_heard_at_8_khz_mono(tmp_path):
    """A laptop records at 44.1 or 48 kHz, often in stereo: `predict` reads it as the dataset's mono 8 kHz, where
    the dataset's own files must be that already (`read_wav`)."""
    tone = np.round(8000 * np.sin(2 * np.pi * 500 * np.arange(4000) / 8000)).astype(int)  # 0.5 s of 500 Hz
    (tmp_path / "mono.wav").write_bytes(wav_bytes(tone))
    upsampled = np.round(8000 * np.sin(2 * np.pi * 500 * np.arange(24000) / 48000)).astype(int)
    (tmp_path / "laptop.wav").write_bytes(wav_bytes(upsampled, rate=48000, channels=2))
    mono, laptop = (spoken_digits.read_recording(tmp_path / name) for name in ("mono.wav", "laptop.wav"))
    # The tone is sound to its end; its whole frames (32 ms every 10 ms) end at 3,936: the model hears no more.
    np.testing.assert_array_equal(mono, spoken_digits.read_wav(tmp_path / "mono.wav")[:3936])
    assert laptop.shape == (3936,) and laptop.dtype == np.float32
    np.testing.assert_allclose(laptop[100:-100], mono[100:-100], atol=2e-3)  # the filter's edges aside
    with pytest.raises(UserError, match="laptop.wav is 2-channel audio at 48000 Hz; expected mono 8000 Hz"):
        spoken_digits.read_wav(tmp_path / "laptop.wav")
    hum = np.round(8000 * np.sin(2 * np.pi * 500 * np.arange(11 * 44100) / 44100)).astype(int)
    (tmp_path / "long.wav").write_bytes(wav_bytes(hum, rate=44100))
    with pytest.raises(UserError, match="long.wav lasts 11.0 s; a recording of one spoken digit lasts at most 10 s"):
        spoken_digits.read_recording(tmp_path / "long.wav")
    (tmp_path / "notes.wav").write_text("not audio")
    with pytest.raises(UserError, match=r"notes.wav is not a readable WAV file \(File format b'not ' not understood"):
        spoken_digits.read_recording(tmp_path / "notes.wav")


def test_the_silence_before_and_after_a_user_s_digit_is_cut_off_as_fsdd_s_was(tmp_path):
    """A recorder runs before and after the word; FSDD's recordings stop where the word does, and a model that
    averages over a recording's frames hears the silence as part of the word."""
    word = 0.25 * np.sin(2 * np.pi * 500 * np.arange(3200) / 8000)  # 0.4 s
    room = np.random.default_rng(0).normal(0, 10 ** (-70 / 20), 8000 + len(word) + 8000)  # a quiet room, -70 dBFS
    recorded = room + np.pad(word, 8000)  # a second of the room before the word and after it
    (tmp_path / "recorded.wav").write_bytes(wav_bytes(np.round(32767 * recorded).astype(int)))
    heard = spoken_digits.read_recording(tmp_path / "recorded.wav")
    assert 3200 <= len(heard) <= 3200 + 2 * 256  # the word, give or take a frame at each end
    assert np.abs(heard).max() == pytest.approx(0.25, abs=0.01)
    (tmp_path / "quiet.wav").write_bytes(wav_bytes(np.round(32767 * room).astype(int)))
    with pytest.raises(UserError, match=r"quiet.wav is silent: its loudest 32 ms are at -\d+ dBFS \(below -60\)"):
        spoken_digits.read_recording(tmp_path / "quiet.wav")
    digit = spoken_digits.read_wav(tmp_path / "recorded.wav")  # the dataset's own files are read as they are
    assert len(digit) == len(recorded)


def test_a_microphone_s_constant_offset_is_no_sound_to_the_silence_cut(tmp_path):
    """Cheap microphones and sound cards add a constant to every sample; counted as sound, it made the room's
    silence as loud as the offset (here -40 dBFS, within 40 dB of the word), kept as part of the word."""
    word = 0.25 * np.sin(2 * np.pi * 500 * np.arange(3200) / 8000)
    room = np.random.default_rng(0).normal(0, 10 ** (-70 / 20), 8000 + len(word) + 8000)
    recorded = room + np.pad(word, 8000) + 0.01
    (tmp_path / "offset.wav").write_bytes(wav_bytes(np.round(32767 * recorded).astype(int)))
    heard = spoken_digits.read_recording(tmp_path / "offset.wav")
    assert 3200 <= len(heard) <= 3200 + 2 * 256
    (tmp_path / "hum.wav").write_bytes(wav_bytes(np.round(32767 * (room + 0.01)).astype(int)))
    with pytest.raises(UserError, match="hum.wav is silent"):  # an offset alone is no sound
        spoken_digits.read_recording(tmp_path / "hum.wav")


def test_a_long_recording_is_refused_before_it_is_resampled(tmp_path, monkeypatch):
    """Resampling takes time and memory in proportion to the recording: 10 MB of 8-bit samples at 800 Hz (3.5 hours)
    took 43 s and 4.4 GB before its length was checked. A recording long only for the silence around the word is
    still heard."""
    import scipy.signal

    (tmp_path / "slow.wav").write_bytes(wav_bytes(np.zeros(800 * 100, int), rate=800))  # 100 s at 800 Hz
    monkeypatch.setattr(scipy.signal, "resample_poly", lambda *args: pytest.fail("resampled a recording too long"))
    with pytest.raises(UserError, match="slow.wav lasts 100.0 s; a recording of one spoken digit lasts at most 10 s, "
                                        "60 s with the silence before and after it"):
        spoken_digits.read_recording(tmp_path / "slow.wav")
    word = 0.25 * np.sin(2 * np.pi * 500 * np.arange(3200) / 8000)
    recorded = np.pad(word, 15 * 8000)  # 30 s, the word in its middle
    (tmp_path / "waited.wav").write_bytes(wav_bytes(np.round(32767 * recorded).astype(int)))
    assert 3200 <= len(spoken_digits.read_recording(tmp_path / "waited.wav")) <= 3200 + 2 * 256


def test_the_clicks_of_record_and_stop_are_cut_off_with_the_silence(tmp_path):
    """A laptop's microphone records its trackpad's click as Record and Stop are pressed, louder than the word;
    kept, they kept the second of silence between them and the word."""
    word = 0.25 * np.sin(2 * np.pi * 500 * np.arange(3200) / 8000)
    recorded = np.random.default_rng(0).normal(0, 10 ** (-70 / 20), 8000 + len(word) + 8000) + np.pad(word, 8000)
    recorded[400:416] = recorded[-416:-400] = 0.9  # 2 ms each, 50 ms from each end
    (tmp_path / "clicks.wav").write_bytes(wav_bytes(np.round(32767 * recorded).astype(int)))
    heard = spoken_digits.read_recording(tmp_path / "clicks.wav")
    assert 3200 <= len(heard) <= 3200 + 2 * 256
    assert np.abs(heard).max() == pytest.approx(0.25, abs=0.01)


def test_a_recording_in_float_8_or_24_bit_samples_reads_as_in_16_bits(tmp_path):
    """Audacity exports 32-bit float WAV by default, and field recorders 24-bit PCM; Python's `wave` reads
    neither. 8-bit PCM is unsigned."""
    from scipy.io import wavfile

    tone = np.sin(2 * np.pi * 500 * np.arange(2000) / 8000)
    (tmp_path / "pcm16.wav").write_bytes(wav_bytes(np.round(16000 * tone).astype(int)))
    wavfile.write(tmp_path / "float.wav", 8000, (16000 / 32768 * tone).astype(np.float32))
    wavfile.write(tmp_path / "pcm8.wav", 8000, np.round(128 + 16000 / 256 * tone).astype(np.uint8))
    pcm24 = np.round(16000 * 256 * tone).astype("<i4")
    frames = b"".join(value.tobytes()[:3] for value in pcm24)  # the low three bytes of each little-endian value
    header = (b"RIFF" + (36 + len(frames)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
              + np.array([1, 1], "<u2").tobytes() + np.array([8000, 8000 * 3], "<u4").tobytes()
              + np.array([3, 24], "<u2").tobytes() + b"data" + len(frames).to_bytes(4, "little"))
    (tmp_path / "pcm24.wav").write_bytes(header + frames)
    pcm16, floats, pcm24, pcm8 = (spoken_digits.read_recording(tmp_path / f"{name}.wav")
                                  for name in ("pcm16", "float", "pcm24", "pcm8"))
    np.testing.assert_allclose(floats, pcm16, atol=2e-5)  # 16 bits round to half of 1/32,768
    np.testing.assert_allclose(pcm24, pcm16, atol=2e-5)
    np.testing.assert_allclose(pcm8, pcm16, atol=1 / 256 + 2e-5)  # 8 bits round to half of 1/128


def _scipy_wav(samples):
    """A WAV file of `samples`' dtype (float32: a float WAV) and its columns as channels, at 8 kHz."""
    from scipy.io import wavfile

    buffer = io.BytesIO()
    wavfile.write(buffer, 8000, samples)
    return buffer.getvalue()


def _with_header(data, offset, value):
    """`data` with the 4-byte little-endian header field at `offset` set to `value`."""
    return data[:offset] + int(value).to_bytes(4, "little") + data[offset + 4:]


TONE = np.round(8000 * np.sin(2 * np.pi * 500 * np.arange(2000) / 8000)).astype(int)


@pytest.mark.parametrize("data, message", [
    (wav_bytes(TONE)[:44 + 1000], "is cut short: its header promises 4,000 bytes of samples and the file holds 1,000 "
     "(a recording not saved to its end?)"),
    (_with_header(wav_bytes(TONE), 40, 0), "holds no samples (its header gives them 0 bytes)"),
    (_with_header(wav_bytes(TONE), 4, 0), "is not a readable WAV file (its header is damaged)"),  # RIFF size 0
    (wav_bytes(TONE)[:22] + b"\0\0" + wav_bytes(TONE)[24:], "is not a readable WAV file (its header is "
     "damaged)"),  # no channels
    (_with_header(_with_header(wav_bytes(TONE), 24, 0), 28, 0), "is not a readable WAV file (its header gives a "
     "sample rate of 0 Hz)"),
    (_scipy_wav(np.r_[np.zeros(1000), np.nan, np.zeros(999)].astype(np.float32)), "holds samples that are not "
     "numbers (NaN or infinite)"),
    (_scipy_wav(np.full(2000, np.inf, np.float32)), "holds samples that are not numbers (NaN or infinite)"),
    (_scipy_wav(TONE.astype(np.float32)), "holds float samples up to 8,000.0, where a float WAV's run from -1 to 1 "
     "(written from integer samples without scaling them?)"),
])
def test_a_damaged_or_unfinished_recording_is_one_line_not_an_answer(tmp_path, data, message):
    """A recorder stopped before it finished the file, a damaged header, a float file of NaNs or of integer-scaled
    samples: refused in one line. A file cut short was read as the samples it holds, half a word, and answered."""
    (tmp_path / "digit.wav").write_bytes(data)
    with pytest.raises(UserError) as raised:
        spoken_digits.read_recording(tmp_path / "digit.wav")
    assert str(raised.value) == f"{tmp_path / 'digit.wav'} {message}"


def test_a_streaming_writer_s_unknown_sizes_are_not_a_file_cut_short(tmp_path):
    """A writer that streams (ffmpeg to a pipe) cannot go back to fill the sizes in, and leaves 0xFFFFFFFF there."""
    streamed = _with_header(_with_header(wav_bytes(TONE), 4, 0xFFFFFFFF), 40, 0xFFFFFFFF)
    (tmp_path / "streamed.wav").write_bytes(streamed)
    (tmp_path / "digit.wav").write_bytes(wav_bytes(TONE))
    np.testing.assert_array_equal(spoken_digits.read_recording(tmp_path / "streamed.wav"),
                                  spoken_digits.read_recording(tmp_path / "digit.wav"))


def test_a_microphone_on_one_of_two_inputs_is_heard_as_in_mono(tmp_path):
    """A mono microphone on the first input of a two-channel interface records silence on the second; the mean of
    the two was the voice 6 dB quieter, whose quiet end the silence cut then took (a quiet "six" heard as "three"),
    and channels out of phase were a recording of nothing. The louder channel is heard, whichever it is."""
    word = np.r_[0.25 * np.sin(2 * np.pi * 500 * np.arange(2400) / 8000),
                 0.003 * np.sin(2 * np.pi * 3000 * np.arange(800) / 8000)]  # a voiced sound, then a quiet "s"
    as_integers = np.round(32767 * word).astype("<i2")
    (tmp_path / "mono.wav").write_bytes(wav_bytes(as_integers))
    silence = np.zeros_like(as_integers)
    for name, channels in [("silent", [as_integers, silence]), ("inverted", [as_integers, -as_integers]),
                           ("second", [silence, as_integers])]:
        (tmp_path / f"{name}.wav").write_bytes(_scipy_wav(np.stack(channels, axis=1)))
    mono = spoken_digits.read_recording(tmp_path / "mono.wav")
    assert len(mono) > 2400 + 400  # the quiet "s" is part of the word
    for name in ("silent", "inverted", "second"):
        np.testing.assert_array_equal(spoken_digits.read_recording(tmp_path / f"{name}.wav"), mono)


@pytest.mark.real_data
def test_the_real_archive_is_the_v1_0_9_release(real_fsdd_dir):
    recordings = spoken_digits.load(real_fsdd_dir)
    lengths = np.array([len(wave) for wave in recordings.waveforms])
    assert len(recordings) == 2500 and lengths.min() == 1148 and lengths.max() == 18262
    assert lengths.min() >= spoken_digits.MIN_SAMPLES  # every recording passes `read_wav`'s check
    assert np.median(lengths) == 3188
    assert np.bincount(recordings.labels).tolist() == [250] * 10
    train, test = recordings.official_split()
    assert (len(train), len(test)) == (2250, 250)
    others, theo = recordings.leave_out("theo")
    assert (len(others), len(theo)) == (2000, 500)
    assert all(np.abs(wave).max() <= 1.0 for wave in recordings.waveforms)

