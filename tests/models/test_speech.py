import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.models.speech import LogMelSpectrogram, NormalizeRecording, build_speech_classifier, word_alone
from keras_apps.models.speech_frames import LONGEST_PAUSE_SECONDS, STEP_SECONDS, frame_length, frame_step

RATE = 8000


def tones(count, seed=0):
    """Class 0: a 300 Hz tone, class 1: 1,500 Hz; random lengths (0.15-0.5 s), loudness and noise."""
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, 2, count)
    waves = []
    for label in labels:
        length = int(generator.integers(1200, 4000))
        time = np.arange(length) / RATE
        wave = generator.uniform(0.1, 0.8) * np.sin(2 * np.pi * (300, 1500)[label] * time + generator.uniform(0, 6))
        waves.append((wave + 0.05 * generator.normal(size=length)).astype(np.float32))
    return waves, labels.astype(np.int32)


def padded(waves):
    audio = np.zeros((len(waves), max(map(len, waves))), np.float32)
    for row, wave in enumerate(waves):
        audio[row, : len(wave)] = wave
    return {"audio": audio, "lengths": np.array([len(wave) for wave in waves], np.int32)}


def test_the_in_model_spectrogram_of_a_tone_matches_numpy_s_and_peaks_in_its_band():
    time = np.arange(4000) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * time)).astype(np.float32)
    layer = LogMelSpectrogram(RATE, frame_length=256, frame_step=80, num_mel_bins=32)
    computed = np.asarray(layer(tone[np.newaxis]))[0]
    # The reference: periodic Hann frames, |rfft|^2, the same mel matrix, log; frames wholly inside the audio.
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256)
    frames = np.stack([tone[start:start + 256] * window for start in range(0, len(tone) - 256 + 1, 80)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = np.asarray(tf.signal.linear_to_mel_weight_matrix(32, 129, RATE, 20.0, RATE / 2))
    np.testing.assert_allclose(computed, np.log(power @ mel + 1e-6), rtol=1e-4, atol=1e-3)
    # Its energy sits in the band whose centre is nearest 1 kHz.
    edges = np.linspace(*(2595 * np.log10(1 + np.array([20.0, RATE / 2]) / 700)), 34)
    centres = 700 * (10 ** (edges[1:-1] / 2595) - 1)
    assert computed.mean(axis=0).argmax() == np.abs(centres - 1000).argmin()


def test_audio_shorter_than_a_frame_in_every_row_is_still_answered():
    model = build_speech_classifier(filters=(8,))
    logits = model({"audio": np.zeros((2, 0), np.float32), "lengths": np.zeros(2, np.int32)}, training=False)
    assert logits.shape == (2, 10) and np.isfinite(logits).all()


def test_padding_never_changes_a_recording_s_logits():
    model = build_speech_classifier(num_classes=10, filters=(8, 8))
    waves, _ = tones(3)
    waves.append(np.random.default_rng(1).normal(size=9000).astype(np.float32))  # the longest sets the padding
    together = model(padded(waves), training=False)
    for row, wave in enumerate(waves):
        alone = model(padded([wave]), training=False)
        np.testing.assert_allclose(alone[0], together[row], atol=1e-5)
    assert together.shape == (4, 10)


def test_learns_two_tones_and_reloads_with_the_same_outputs(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_speech_classifier(num_classes=2, num_mel_bins=32, filters=(8, 16))
    waves, labels = tones(128)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(padded(waves), labels, batch_size=32, epochs=4, verbose=0)
    test_waves, test_labels = tones(64, seed=1)
    logits = model.predict(padded(test_waves), verbose=0)
    assert (logits.argmax(axis=1) == test_labels).mean() > 0.9  # chance: 0.5
    model.save(tmp_path / "speech.keras")
    reloaded = keras.saving.load_model(tmp_path / "speech.keras")
    np.testing.assert_allclose(reloaded.predict(padded(test_waves), verbose=0), logits, atol=1e-5)


def test_a_recording_shorter_than_one_frame_gets_the_bias_not_nan():
    model = build_speech_classifier(filters=(8,))
    logits = model(padded([np.ones(100, np.float32), np.ones(3000, np.float32)]), training=False)
    assert np.isfinite(logits).all()


def test_too_many_blocks_for_the_bands_is_refused():
    with pytest.raises(ValueError, match="num_mel_bins \\(8\\) must be at least 2\\*\\*len\\(filters\\) \\(16\\)"):
        build_speech_classifier(num_mel_bins=8, filters=(8, 8, 8, 8))


def test_more_bands_than_the_spectrum_has_bins_is_refused():
    build_speech_classifier(num_mel_bins=129, filters=(8,))
    with pytest.raises(ValueError, match="at most the frame's 129 frequency bins"):
        build_speech_classifier(num_mel_bins=130, filters=(8,))


def in_a_room(wave, seconds, seed=0):
    """`wave` as a microphone records it: `seconds` of a quiet room (-70 dBFS) before and after, and under it."""
    room = np.random.default_rng(seed).normal(0, 10 ** (-70 / 20), len(wave) + 2 * int(seconds * RATE))
    return (room + np.pad(wave, int(seconds * RATE))).astype(np.float32)


def test_word_alone_cuts_each_recording_of_a_batch_as_alone_and_leaves_a_cut_word_as_it_is():
    waves, _ = tones(4)
    recorded = [in_a_room(wave, seconds, seed) for seed, (wave, seconds) in enumerate(zip(waves, (0, 0.3, 1, 0.05)))]
    silent = np.random.default_rng(9).normal(0, 10 ** (-70 / 20), 3000).astype(np.float32)
    batch = padded([*recorded, silent, np.full(100, 0.5, np.float32)])  # a room alone; less than one frame
    words, lengths, loudest = (tensor.numpy() for tensor in word_alone(batch["audio"], batch["lengths"], RATE))
    for row, (wave, heard) in enumerate(zip(waves, recorded)):
        alone = word_alone(heard[None], [len(heard)], RATE)
        assert lengths[row] == alone[1][0] and abs(lengths[row] - len(wave)) <= 2 * 256  # a frame at each end
        np.testing.assert_array_equal(words[row, :lengths[row]], alone[0][0, :lengths[row]])
        assert not words[row, lengths[row]:].any()  # padded with zeros, as the model expects
        again = word_alone(words[row:row + 1, :lengths[row]], lengths[row:row + 1], RATE)
        np.testing.assert_array_equal(again[0][0], words[row, :lengths[row]])  # a cut word is cut no further
    assert loudest[4] < -60 and lengths[4] == 3000 and np.array_equal(words[4, :3000], silent)  # kept, for the caller
    assert loudest[5] == -np.inf and lengths[5] == 100  # no whole frame: nothing measured
    empty = word_alone(np.zeros((0, 50), np.float32), np.zeros(0, np.int32), RATE)
    assert [tensor.shape for tensor in empty] == [(0, 50), (0,), (0,)]


def test_the_model_hears_a_recording_as_made_as_its_word_alone_in_training_too():
    """A microphone records the room around the word; the model cuts it off itself (`WordAlone`), so a recording
    is heard alike through `fit`, `predict` and an export, with the room or without it."""
    keras.utils.set_random_seed(0)
    model = build_speech_classifier(num_mel_bins=8, filters=(4, 8), dropout=0.0)
    waves, _ = tones(3)
    recorded = [in_a_room(wave, 0.5, seed) for seed, wave in enumerate(waves)]
    words = [word.numpy()[0, :int(length[0])] for word, length, _ in
             (word_alone(wave[None], [len(wave)], RATE) for wave in recorded)]
    np.testing.assert_allclose(model(padded(recorded)), model(padded(words)), atol=1e-5)


def test_the_frame_mask_keeps_each_frame_that_ends_within_its_recording():
    """Frame i spans samples i * step to i * step + length: with the two swapped, the model heard only the first
    third of a second-long recording."""
    model = build_speech_classifier(filters=(8,))
    masks = keras.Model(model.input, model.get_layer("frame_mask").output)
    length, step = frame_length(RATE), frame_step(RATE)
    sizes = [RATE, length, length + step - 1, length + step]
    noise = np.random.default_rng(0).normal(0, 0.3, RATE).astype(np.float32)  # loud throughout: nothing is cut
    mask = np.asarray(masks(padded([noise[:size] for size in sizes])))
    assert mask.sum(axis=1).tolist() == [(size - length) // step + 1 for size in sizes] == [97, 1, 1, 2]


def test_a_recording_is_normalized_over_its_own_frames_and_all_its_bands():
    features = np.random.default_rng(0).normal(5, 3, (2, 10, 8)).astype(np.float32)
    mask = np.arange(10) < np.array([[6], [10]])
    normalized = np.asarray(NormalizeRecording()(features, mask))
    for row, real in enumerate(mask):
        np.testing.assert_allclose(normalized[row, real].mean(), 0, atol=1e-4)
        np.testing.assert_allclose(normalized[row, real].var(), 1, atol=1e-3)
    assert not normalized[~mask].any()


PAUSES = round(LONGEST_PAUSE_SECONDS / STEP_SECONDS)  # the most silent frames inside one sound


@pytest.mark.parametrize("silent_frames, start_frame", [(PAUSES, 0), (PAUSES + 1, PAUSES + 2)])
def test_a_click_within_the_longest_pause_of_the_word_is_kept_with_it_and_one_frame_further_is_cut(
        silent_frames, start_frame):
    """A click in frame 0 alone, exact silence in the next `silent_frames` frames, then a tone to the end."""
    length, step = frame_length(RATE), frame_step(RATE)
    tone_start = silent_frames * step + length  # where the last silent frame ends
    wave = np.zeros(tone_start + 25 * step, np.float32)  # the last frame ends at the last sample
    wave[:step] = np.resize([0.5, -0.5], step)
    wave[tone_start:] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(len(wave) - tone_start) / RATE)
    words, lengths, _ = (tensor.numpy() for tensor in word_alone(wave[None], [len(wave)], RATE))
    start = start_frame * step  # cut: from the first frame that holds the tone
    assert lengths[0] == len(wave) - start
    np.testing.assert_array_equal(words[0], np.pad(wave[start:], (0, start)))
