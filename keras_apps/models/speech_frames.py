"""The analysis frames of the speech models' log-mel front end (`keras_apps.models.speech`), in a module without
TensorFlow so that reading a WAV file and checking a flag can ask about them: how many samples one frame holds
(a shorter recording has no frame, so nothing to hear) and how many frequency bins its FFT has (the most mel
bands it can be split into), and the levels that part the word from the silence around it (`speech.word_alone`).
"""

FRAME_SECONDS, STEP_SECONDS = 0.032, 0.010
SILENCE_BELOW_LOUDEST_DB = 40  # an analysis frame this much quieter than a recording's loudest is silence
SILENT_DBFS = -60  # and one quieter than this (FSDD's quietest recording peaks at -48 dBFS)
# Silence inside a spoken digit (the stop in "six" or "eight") is shorter: in 2,496 of FSDD's 2,500 recordings.
LONGEST_PAUSE_SECONDS = 0.25


def frame_length(sampling_rate):
    """Samples in one analysis frame (32 ms)."""
    return round(FRAME_SECONDS * sampling_rate)


def frame_step(sampling_rate):
    """Samples between the starts of two frames (10 ms)."""
    return round(STEP_SECONDS * sampling_rate)


def frequency_bins(sampling_rate):
    """Bins of a frame's spectrum: `tf.signal.stft` takes the FFT of the frame padded to a power of 2."""
    return (1 << (frame_length(sampling_rate) - 1).bit_length()) // 2 + 1
