"""The analysis frames of the speech models' log-mel front end (`keras_apps.models.speech`), in a module without
TensorFlow so that reading a WAV file and checking a flag can ask about them: how many samples one frame holds
(a shorter recording has no frame, so nothing to hear) and how many frequency bins its FFT has (the most mel
bands it can be split into)."""

FRAME_SECONDS, STEP_SECONDS = 0.032, 0.010


def frame_length(sampling_rate):
    """Samples in one analysis frame (32 ms)."""
    return round(FRAME_SECONDS * sampling_rate)


def frame_step(sampling_rate):
    """Samples between the starts of two frames (10 ms)."""
    return round(STEP_SECONDS * sampling_rate)


def frequency_bins(sampling_rate):
    """Bins of a frame's spectrum: `tf.signal.stft` takes the FFT of the frame padded to a power of 2."""
    return (1 << (frame_length(sampling_rate) - 1).bit_length()) // 2 + 1
