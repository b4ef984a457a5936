"""A spoken-word classifier that hears the raw waveform: the cut of the silence around the word and its log-mel
spectrogram are layers of the model, so an export takes audio as recorded, and a recording gets the same answer
alone or padded in a batch.

    audio [batch, samples] float32 in [-1, 1]          lengths [batch] int32 (where each recording ends)
      │ WordAlone: the word alone, the silence before and after it cut off (word_alone), lengths alike
      │ LogMelSpectrogram: Hann frames of 32 ms every 10 ms (tf.signal.stft, unpadded: a frame holds only
      │ real samples, or lies wholly past the end), 64 mel bands up to 4 kHz, log(power + 1e-6)
      ▼                                                  │ frame_mask: the frames that end within the recording
    [batch, frames, bands] ◀──────────────────────────────┘
      │ normalized to mean 0 and variance 1 over the recording's own frames and bands (how loud it was
      │ recorded goes; the shape of its spectrum stays; no statistics learned, none borrowed from batch
      │ neighbours); frames past the end zeroed
      │ per block: Conv2D 3x3 over (time, band), batch norm, ReLU, max-pool over bands only (time keeps
      │ its resolution, so the mask stays exact), frames past the end zeroed again
      ▼
    mean over the recording's frames → dropout → Dense → logits [batch, num_classes]
"""

import keras
import tensorflow as tf
from keras import layers, ops

from keras_apps.models.speech_frames import (
    LONGEST_PAUSE_SECONDS,
    SILENCE_BELOW_LOUDEST_DB,
    SILENT_DBFS,
    STEP_SECONDS,
    frame_length,
    frame_step,
    frequency_bins,
)


@keras.saving.register_keras_serializable(package="keras_apps")
class LogMelSpectrogram(layers.Layer):
    """`[batch, samples]` audio → `[batch, frames, num_mel_bins]` log mel power, frames unpadded (see module)."""

    def __init__(self, sampling_rate=8000, frame_length=256, frame_step=80, num_mel_bins=64, min_freq=20.0,
                 max_freq=None, **kwargs):
        super().__init__(**kwargs)
        self.sampling_rate, self.frame_length, self.frame_step = sampling_rate, frame_length, frame_step
        self.num_mel_bins, self.min_freq = num_mel_bins, min_freq
        self.max_freq = max_freq or sampling_rate / 2

    def call(self, audio):
        # Audio shorter than one frame (a batch of empty recordings) is padded to one, which the mask then drops.
        audio = tf.pad(audio, [[0, 0], [0, tf.maximum(self.frame_length - tf.shape(audio)[1], 0)]])
        spectrum = tf.signal.stft(audio, self.frame_length, self.frame_step, window_fn=tf.signal.hann_window,
                                  pad_end=False)
        power = tf.math.square(tf.math.abs(spectrum))
        mel = tf.signal.linear_to_mel_weight_matrix(self.num_mel_bins, power.shape[-1], self.sampling_rate,
                                                    self.min_freq, self.max_freq)
        return tf.math.log(tf.tensordot(power, mel, 1) + 1e-6)

    def get_config(self):
        return {**super().get_config(), "sampling_rate": self.sampling_rate, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq,
                "max_freq": self.max_freq}


@keras.saving.register_keras_serializable(package="keras_apps")
class FrameMask(layers.Layer):
    """`(lengths [batch], features [batch, frames, ...])` → bool `[batch, frames]`: the frames that end within
    their recording (frame i spans samples i * step to i * step + length)."""

    def __init__(self, frame_length=256, frame_step=80, **kwargs):
        super().__init__(**kwargs)
        self.frame_length, self.frame_step = frame_length, frame_step

    def call(self, lengths, features):
        ends = ops.arange(ops.shape(features)[1]) * self.frame_step + self.frame_length
        return ops.expand_dims(ends, 0) <= ops.expand_dims(ops.cast(lengths, ends.dtype), 1)

    def get_config(self):
        return {**super().get_config(), "frame_length": self.frame_length, "frame_step": self.frame_step}


@keras.saving.register_keras_serializable(package="keras_apps")
class NormalizeRecording(layers.Layer):
    """`[batch, frames, bands]` to mean 0 and variance 1 over each recording's real frames (all bands together,
    so the spectrum keeps its shape); the frames past its end become 0."""

    def call(self, features, mask):
        weights = ops.expand_dims(ops.cast(mask, features.dtype), -1)
        count = ops.maximum(ops.sum(weights, axis=(1, 2), keepdims=True) * ops.shape(features)[2], 1.0)
        mean = ops.sum(features * weights, axis=(1, 2), keepdims=True) / count
        variance = ops.sum(ops.square(features - mean) * weights, axis=(1, 2), keepdims=True) / count
        return (features - mean) / ops.sqrt(variance + 1e-5) * weights


@keras.saving.register_keras_serializable(package="keras_apps")
class ZeroPastEnd(layers.Layer):
    """`[batch, frames, ...]` with the frames past each recording's end set to 0 (`mask`: `[batch, frames]`)."""

    def call(self, x, mask):
        mask = ops.cast(mask, x.dtype)
        return x * ops.reshape(mask, (*ops.shape(mask), *([1] * (len(x.shape) - 2))))


@keras.saving.register_keras_serializable(package="keras_apps")
class MeanOverFrames(layers.Layer):
    """`[batch, frames, width]` → `[batch, width]`: the mean over the real frames (0 for a recording with none)."""

    def call(self, x, mask):
        weights = ops.expand_dims(ops.cast(mask, x.dtype), -1)
        return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


def _audio_batch(audio, lengths):
    """`audio` as float32 `[batch, samples]` and `lengths` as int32 `[batch]`, their ranks checked."""
    return (tf.ensure_shape(tf.convert_to_tensor(audio, tf.float32), [None, None]),
            tf.ensure_shape(tf.convert_to_tensor(lengths, tf.int32), [None]))


def frame_levels(audio, lengths, sampling_rate=8000):
    """`[batch, frames]`: the level in dBFS of each whole analysis frame of each recording of a padded batch (its
    variance: a constant offset is no sound), -inf past the last whole frame."""
    length, step = frame_length(sampling_rate), frame_step(sampling_rate)
    audio, lengths = _audio_batch(audio, lengths)
    padded = tf.pad(audio, [[0, 0], [0, tf.maximum(length - tf.shape(audio)[1], 0)]])  # a frame at least
    frames = tf.signal.frame(padded, length, step)  # [batch, frames, length], whole frames only
    whole = tf.range(tf.shape(frames)[1])[tf.newaxis] * step + length <= lengths[:, tf.newaxis]
    variance = tf.math.reduce_variance(frames, axis=-1)
    return tf.where(whole, 10 * tf.math.log(variance + 1e-20) / tf.math.log(10.0), -float("inf"))


def word_alone(audio, lengths, sampling_rate=8000):
    """Each recording of a padded batch from the first to the last of its whole analysis frames (the front end's:
    32 ms every 10 ms) that is not silence: quieter than `SILENT_DBFS`, or than its loudest frame by
    `SILENCE_BELOW_LOUDEST_DB`. Returns `(audio, lengths, loudest)`: the words, each moved to the start of its row
    and padded with zeros to the batch's width, their lengths, and each recording's loudest frame in dBFS; a
    recording with no such frame (`loudest` below `SILENT_DBFS`, or no whole frame) is kept as it is. Cutting a
    word again leaves it as it is.

    The word is the longest sound; a sound set apart from it by more than `LONGEST_PAUSE_SECONDS` of silence is
    cut off with the silence (a laptop's microphone records the click of its own trackpad as Record and Stop are
    pressed, a few milliseconds that may be louder than the word). A frame's level is its variance: the constant
    offset a cheap microphone or sound card adds to every sample (some of FSDD's own recordings have one of up to
    0.008) is no sound, and measured with it a room's silence would be as loud as the offset and kept as part of
    the word.

    FSDD's recordings were cut at their first and last sample above 150 of 32,768 (-47 dBFS, where the peaks of a
    noise of about -57 dBFS reach), and the model, having heard no other, averages a recording's silence in with its
    word: a second of quiet room noise before and after each of FSDD's 250 test recordings took the exported model
    from 99.6 % right to 14 %, and back to 99.2 % cut so (bench/NOTES.md). The models cut what they hear so, in
    training and serving alike (`WordAlone`); `keras_apps.data.spoken_digits.without_silence` cuts a user's
    recording so in the commands, to refuse a silent one or one too short or too long."""
    length, step = frame_length(sampling_rate), frame_step(sampling_rate)
    audio, lengths = _audio_batch(audio, lengths)
    width = tf.shape(audio)[1]
    levels = frame_levels(audio, lengths, sampling_rate)
    index = tf.range(tf.shape(levels)[1])
    loudest = tf.reduce_max(levels, axis=1)
    loud = levels >= tf.maximum(loudest - SILENCE_BELOW_LOUDEST_DB, SILENT_DBFS)[:, tf.newaxis]
    # A loud frame with no loud frame among the `pauses` + 1 before it starts a sound; sounds are numbered from 1.
    pauses = round(LONGEST_PAUSE_SECONDS / STEP_SECONDS)
    loud_before = tf.cumsum(tf.cast(loud, tf.int32), axis=1, exclusive=True)
    long_before = tf.pad(loud_before, [[0, 0], [pauses + 1, 0]])[:, :tf.shape(index)[0]]
    sound = tf.cumsum(tf.cast(loud & (loud_before == long_before), tf.int32), axis=1)
    slots = tf.shape(index)[0] + 1  # sound numbers 0 (before the first) to the frame count, per recording
    rows = tf.range(tf.shape(audio)[0])[:, tf.newaxis]
    sizes = tf.reshape(tf.math.unsorted_segment_sum(tf.cast(loud, tf.int32), sound + rows * slots,
                                                    tf.shape(audio)[0] * slots), [-1, slots])
    word = tf.argmax(sizes * slots - tf.range(slots), axis=1, output_type=tf.int32)  # the largest; the first of equals
    in_word = loud & (sound == word[:, tf.newaxis])
    heard = tf.reduce_any(in_word, axis=1)
    starts = tf.where(heard, tf.reduce_min(tf.where(in_word, index, slots), axis=1) * step, 0)
    ends = tf.where(heard, tf.reduce_max(tf.where(in_word, index, 0), axis=1) * step + length, lengths)
    positions = tf.range(width)[tf.newaxis]
    taken = tf.gather(audio, tf.minimum(starts[:, tf.newaxis] + positions, width - 1), batch_dims=1)
    words = tf.where(positions < (ends - starts)[:, tf.newaxis], taken, 0.0)
    return tf.ensure_shape(words, audio.shape), tf.ensure_shape(ends - starts, lengths.shape), loudest  # ops lose them


@keras.saving.register_keras_serializable(package="keras_apps")
class WordAlone(layers.Layer):
    """`(audio, lengths)` → the same, each recording's silence before and after its word cut off (`word_alone`):
    what the model hears in training is what it hears from a microphone."""

    def __init__(self, sampling_rate=8000, **kwargs):
        super().__init__(**kwargs)
        self.sampling_rate = sampling_rate

    def call(self, audio, lengths):
        words, spans, _ = word_alone(audio, lengths, self.sampling_rate)
        return words, spans

    def get_config(self):
        return {**super().get_config(), "sampling_rate": self.sampling_rate}


def spoken_features(audio, lengths, sampling_rate=8000, num_mel_bins=64, filters=(32, 64, 64)):
    """The module diagram's body, from the `audio` and `lengths` inputs to the mean over real frames
    `[batch, width]`: what a classifier or a fusion of senses (`keras_apps.models.fusion`) builds on."""
    if not filters or not 2 ** len(filters) <= num_mel_bins <= frequency_bins(sampling_rate):
        raise ValueError(f"num_mel_bins ({num_mel_bins}) must be at least 2**len(filters) ({2 ** len(filters)}) "
                         f"and at most the frame's {frequency_bins(sampling_rate)} frequency bins, and filters must "
                         "name at least one block")
    length, step = frame_length(sampling_rate), frame_step(sampling_rate)
    audio, lengths = WordAlone(sampling_rate, dtype="float32", name="word_alone")(audio, lengths)
    spectrogram = LogMelSpectrogram(sampling_rate, length, step, num_mel_bins, dtype="float32",  # TensorFlow's
                                    name="log_mel")(audio)  # FFT computes in 32 or 64 bits, under mixed precision too
    mask = FrameMask(length, step, name="frame_mask")(lengths, spectrogram)
    x = NormalizeRecording(name="normalize")(spectrogram, mask)
    x = layers.Reshape((-1, num_mel_bins, 1), name="as_image")(x)
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(count, 3, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"norm{index}")(x)
        x = layers.ReLU(name=f"relu{index}")(x)
        x = layers.MaxPooling2D((1, 2), name=f"pool{index}")(x)
        x = ZeroPastEnd(name=f"zero_past_end{index}")(x, mask)
    x = layers.Reshape((-1, (num_mel_bins >> len(filters)) * filters[-1]), name="frames")(x)
    return MeanOverFrames(name="mean_over_frames")(x, mask)


def build_speech_classifier(num_classes=10, sampling_rate=8000, num_mel_bins=64, filters=(32, 64, 64),
                            dropout=0.3, name="speech_classifier"):
    """The classifier of the module's diagram; inputs `{"audio", "lengths"}`, logits out.

    Args:
        num_classes: output logits (10 for spoken digits).
        sampling_rate: of the audio, in Hz; frames are 32 ms every 10 ms at any rate.
        num_mel_bins: mel bands of the spectrogram; halved by each block's pooling, so at least 2**len(filters);
            at most the frame's frequency bins (`speech_frames.frequency_bins`: 129 at 8 kHz).
        filters: one convolution block per entry.
        dropout: before the output layer.
    """
    audio = keras.Input(shape=(None,), dtype="float32", name="audio")
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    x = spoken_features(audio, lengths, sampling_rate, num_mel_bins, filters)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model({"audio": audio, "lengths": lengths}, logits, name=name)
