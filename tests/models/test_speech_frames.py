import numpy as np
import pytest
import tensorflow as tf

from keras_apps.models.speech_frames import frame_length, frame_step, frequency_bins


@pytest.mark.parametrize("rate, length, step, bins", [(8000, 256, 80, 129), (10000, 320, 100, 257)])
def test_the_bins_are_those_of_tensorflow_s_spectrum(rate, length, step, bins):
    """A 320-sample frame's FFT takes 512 samples: the bins are the padded frame's, not half the frame."""
    assert (frame_length(rate), frame_step(rate), frequency_bins(rate)) == (length, step, bins)
    spectrum = tf.signal.stft(np.zeros((1, length), np.float32), length, step)
    assert spectrum.shape[-1] == bins
