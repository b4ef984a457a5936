"""Speech and multimodal exports, reloaded: a recording as made is heard as the word alone; audio shorter than one
analysis frame, or silent, is nothing to hear (the speech export refuses it, the multimodal one counts it as no
audio), and an empty batch gets an empty answer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.data.spoken_digits import without_silence
from keras_apps.export.saved_model import write_saved_model
from keras_apps.inference.serving import audio_classifier_endpoint, audio_visual_endpoint
from keras_apps.models.fusion import build_digit_fusion, senses
from keras_apps.models.speech import build_speech_classifier
from keras_apps.models.speech_frames import frame_length
from tests.models.test_speech import in_a_room, padded, tones

FRAME = frame_length(8000)  # 256 samples: the models' sampling rate


def reloaded(model, endpoint, path):
    write_saved_model(model, path, {"serving_default": endpoint})
    return tf.saved_model.load(str(path)).signatures["serving_default"]


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_speech_classifier(num_mel_bins=8, filters=(4, 8), dropout=0.0)  # two convolutions, as trained
    return reloaded(model, audio_classifier_endpoint(model), tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="module")
def multimodal(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_digit_fusion("gated", width=8, image_filters=(4, 8), audio_filters=(4, 8), num_mel_bins=8)
    return reloaded(model, audio_visual_endpoint(model, senses("gated")), tmp_path_factory.mktemp("multimodal"))


def audio(lengths, samples=300):
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (len(lengths), samples)).astype(np.float32)
    return {"audio": noise * (np.arange(samples) < np.array(lengths)[:, None]), "lengths": np.array(lengths, np.int32)}


@pytest.mark.parametrize("length", [0, 10, FRAME - 1])
def test_speech_refuses_a_recording_shorter_than_one_frame(speech, length):
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"lengths: at least {FRAME} samples"):
        speech(**audio([FRAME, length]))


def test_speech_answers_one_frame_and_an_empty_batch(speech):
    assert speech(**audio([FRAME]))["probabilities"].shape == (1, 10)
    empty = speech(audio=np.zeros((0, 300), np.float32), lengths=np.zeros(0, np.int32))
    assert empty["probabilities"].shape == (0, 10) and empty["class"].shape == (0,)


@pytest.mark.parametrize("length", [10, FRAME - 1])
def test_multimodal_takes_audio_shorter_than_one_frame_for_none(multimodal, length):
    blank, inked = np.zeros((1, 28, 28), np.uint8), np.full((1, 28, 28), 200, np.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="every example needs image or audio: a blank image is "
                       f"none, and audio shorter than one analysis frame \\({FRAME} samples\\) or silent"):
        multimodal(image=blank, **audio([length]))
    short, silent = multimodal(image=inked, **audio([length])), multimodal(image=inked, **audio([0]))
    assert not short["used_audio"][0] and short["used_image"][0]
    np.testing.assert_array_equal(short["probabilities"], silent["probabilities"])  # the image's answer alone
    assert multimodal(image=blank, **audio([FRAME]))["used_audio"][0]


def test_multimodal_answers_an_empty_batch(multimodal):
    empty = multimodal(image=np.zeros((0, 28, 28), np.uint8), audio=np.zeros((0, 300), np.float32),
                       lengths=np.zeros(0, np.int32))
    assert empty["probabilities"].shape == (0, 10)
    assert empty["class"].shape == empty["used_image"].shape == empty["used_audio"].shape == (0,)


def recorded_and_alone():
    """Two tones as recorded in a quiet room (a second of it before and after), and the same recordings as the
    commands read them, the room cut off (`spoken_digits.without_silence`)."""
    waves, _ = tones(2)
    recorded = [in_a_room(wave, 1.0, seed) for seed, wave in enumerate(waves)]
    return padded(recorded), padded([without_silence(wave, "a recording") for wave in recorded])


def test_speech_hears_a_recording_with_the_room_around_it_as_the_word_alone_and_refuses_a_silent_one(speech):
    recorded, alone = recorded_and_alone()
    np.testing.assert_allclose(speech(**recorded)["probabilities"], speech(**alone)["probabilities"], atol=1e-4)
    room = np.random.default_rng(1).normal(0, 10 ** (-70 / 20), (1, 4000)).astype(np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="audio: a recording with no 256-sample frame louder "
                       "than -60 dBFS is silent"):
        speech(audio=room, lengths=np.array([4000], np.int32))


def test_multimodal_hears_a_recording_as_the_word_alone_and_a_silent_one_as_none(multimodal):
    recorded, alone = recorded_and_alone()
    inked = np.full((2, 28, 28), 200, np.uint8)
    heard = multimodal(image=inked, **recorded)
    np.testing.assert_allclose(heard["probabilities"], multimodal(image=inked, **alone)["probabilities"], atol=1e-4)
    assert heard["used_audio"].numpy().all()
    room = np.random.default_rng(1).normal(0, 10 ** (-70 / 20), (1, 4000)).astype(np.float32)
    silent = multimodal(image=inked[:1], audio=room, lengths=np.array([4000], np.int32))
    assert not silent["used_audio"][0] and silent["used_image"][0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="audio shorter than one analysis frame \\(256 samples\\) "
                       "or silent \\(no frame louder than -60 dBFS\\) is none"):
        multimodal(image=np.zeros((1, 28, 28), np.uint8), audio=room, lengths=np.array([4000], np.int32))


def test_a_length_past_the_padded_audio_is_refused(speech, multimodal):
    """A length past the padded samples names audio that was never sent: it is refused, not heard as zeros."""
    inked = np.full((1, 28, 28), 200, np.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="lengths: at most the padded audio"):
        speech(**{**audio([FRAME]), "lengths": np.array([301], np.int32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="lengths: at most the padded audio"):
        multimodal(image=inked, **{**audio([FRAME]), "lengths": np.array([301], np.int32)})


def test_an_audio_model_neither_uses_an_image_nor_takes_one_for_a_sense(tmp_path):
    """A model of audio alone answers from the audio: an inked image is not used, and does not make silent audio
    an answerable example."""
    keras.utils.set_random_seed(0)
    model = build_digit_fusion("audio", width=8, audio_filters=(4, 8), num_mel_bins=8)
    serve = reloaded(model, audio_visual_endpoint(model, senses("audio")), tmp_path)
    inked = np.full((1, 28, 28), 200, np.uint8)
    heard = serve(image=inked, **audio([FRAME]))
    assert heard["used_audio"][0] and not heard["used_image"][0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="every example needs audio"):
        serve(image=inked, **audio([0]))


def test_a_batch_with_one_length_or_image_too_few_is_refused(speech, multimodal):
    """Lengths and images pair with recordings one to one: a batch that does not pair up is refused, not answered
    with one recording's length (or image) stretched over the others."""
    sound, inked = audio([FRAME, FRAME]), np.full((2, 28, 28), 200, np.uint8)
    for serve, images in ((speech, {}), (multimodal, {"image": inked})):
        with pytest.raises(tf.errors.InvalidArgumentError, match="lengths: one per recording"):
            serve(**images, audio=sound["audio"], lengths=sound["lengths"][:1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="image: one per recording"):
        multimodal(image=inked[:1], **sound)
