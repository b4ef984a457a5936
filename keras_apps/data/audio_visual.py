"""Audio-visual digits, paired as AV-MNIST pairs them (Vielzeuf et al. 2018): each spoken digit of FSDD with
MNIST images of the same digit, training recordings with training images and test with test, under a seed.

Fusing two senses only matters where each is unreliable, so this module also makes them so:

- a degraded image keeps only its projection onto the leading principal components that hold 25 % of the
  training images' variance (AV-MNIST removes 75 % of the energy by PCA): the strokes blur into a ghost;
- noisy audio has white Gaussian noise added at a stated signal-to-noise ratio, relative to the recording's
  own mean power;
- a missing image is all zeros (no MNIST digit is blank) and missing audio has no samples (length 0).
"""

from dataclasses import dataclass

import numpy as np

from keras_apps.data.autotune import without_autotune
from keras_apps.errors import UserError

IMAGE_STATES = ("clean", "degraded", "missing")
AUDIO_STATES = ("clean", "noisy", "missing")


@dataclass(frozen=True)
class Pairs:
    """One example per row: an image, a recording (a float32 array of its own length) and their digit."""

    images: np.ndarray  # uint8 [n, 28, 28]
    waveforms: list
    labels: np.ndarray  # int32

    def __len__(self):
        return len(self.labels)


def pair(recordings, images, per_recording, seed):
    """`Pairs`: each of `recordings` (`spoken_digits.Recordings`) with `per_recording` different images of its
    digit drawn from `images` (`LabeledImages`) by `seed`, no image used twice where there are enough."""
    if per_recording < 1:
        raise ValueError(f"per_recording must be at least 1, got {per_recording}")
    generator = np.random.default_rng(seed)
    recording_rows, image_rows = [], []
    for digit in range(10):
        spoken = np.flatnonzero(recordings.labels == digit)
        drawn = np.flatnonzero(images.labels == digit)
        if len(spoken) and not len(drawn):
            raise UserError(f"no image of the digit {digit} to pair with its {len(spoken)} recordings")
        wanted = len(spoken) * per_recording
        chosen = generator.choice(drawn, wanted, replace=wanted > len(drawn)) if wanted else drawn[:0]
        recording_rows.append(np.repeat(spoken, per_recording))
        image_rows.append(chosen)
    recording_rows, image_rows = np.concatenate(recording_rows), np.concatenate(image_rows)
    return Pairs(images.images[image_rows], [recordings.waveforms[row] for row in recording_rows],
                 recordings.labels[recording_rows])


@dataclass(frozen=True)
class PrincipalComponents:
    """The projection that degrades an image: `mean` and `components` (`[784, k]`, orthonormal columns)."""

    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, images, kept_variance=0.25):
        """The fewest leading principal components of `images` (uint8 `[n, 28, 28]`) holding `kept_variance`."""
        if not 0 < kept_variance <= 1:
            raise ValueError(f"kept_variance must lie in (0, 1], got {kept_variance}")
        pixels = images.reshape(len(images), -1).astype(np.float64)
        mean = pixels.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(pixels - mean, rowvar=False))
        values, vectors = values[::-1], vectors[:, ::-1]
        count = int(np.searchsorted(np.cumsum(values) / values.sum(), kept_variance)) + 1
        return cls(mean.astype(np.float32), vectors[:, :count].astype(np.float32))

    def degrade(self, images):
        """`images` (uint8 `[n, 28, 28]`) reconstructed from the kept components, as uint8."""
        pixels = images.reshape(len(images), -1).astype(np.float32) - self.mean
        restored = pixels @ self.components @ self.components.T + self.mean
        return np.clip(np.rint(restored), 0, 255).astype(np.uint8).reshape(images.shape)


def add_noise(wave, snr_db, seed):
    """`wave` (float32 `[samples]`, a tensor) with white Gaussian noise at `snr_db` dB below its mean power;
    `seed` is a stateless seed (int `[2]`)."""
    import tensorflow as tf

    power = tf.reduce_mean(tf.square(wave))
    noise = tf.random.stateless_normal(tf.shape(wave), seed, dtype=wave.dtype)
    return wave + noise * tf.sqrt(power / 10.0 ** (snr_db / 10.0))


def pair_dataset(pairs, batch_size, components, snr_db, *, image="clean", audio="clean", mixed=False,
                 shuffle=False, seed=0):
    """A `tf.data` pipeline of `({"image", "audio", "lengths"}, digit)` batches, audio zero-padded to the batch's
    longest recording.

    Args:
        pairs: `Pairs`.
        components: the `PrincipalComponents` that degrade an image.
        snr_db: the signal-to-noise ratio of noisy audio.
        image, audio: the state every example is given (`IMAGE_STATES`, `AUDIO_STATES`).
        mixed: instead, each example's image is degraded and its audio made noisy each with probability 1/2,
            drawn anew every epoch when `shuffle` (training), fixed by `seed` otherwise (validation).
        seed: of the shuffling and the draws; without `shuffle`, the draws depend on it and on nothing else.
    """
    import tensorflow as tf

    if image not in IMAGE_STATES or audio not in AUDIO_STATES:
        raise ValueError(f"image must be one of {IMAGE_STATES} and audio one of {AUDIO_STATES}, got {image!r}, "
                         f"{audio!r}")
    waveforms = tf.RaggedTensor.from_row_lengths(np.concatenate(pairs.waveforms).astype(np.float32),
                                                 [len(wave) for wave in pairs.waveforms])
    examples = tf.data.Dataset.from_tensor_slices(
        (pairs.images, components.degrade(pairs.images), waveforms, pairs.labels))
    if shuffle:  # training: new draws every epoch, from the run's seeds
        randomness = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    else:  # each example's draws from its index and `seed` alone: the same whatever TensorFlow's global seed,
        randomness = tf.data.Dataset.range(len(pairs))  # so every model is tested on the same noise
    dataset = tf.data.Dataset.zip(examples, randomness)
    if shuffle:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

    def example(items, random):
        clean_image, degraded_image, wave, label = items
        draws = tf.random.experimental.stateless_split(tf.stack([random, tf.constant(seed, tf.int64)]), 2)
        draw, noise_seed = tf.unstack(draws)
        if mixed:
            degrade_image, noisy_audio = tf.unstack(tf.random.stateless_uniform([2], draw) < 0.5)
        else:
            degrade_image, noisy_audio = tf.constant(image == "degraded"), tf.constant(audio == "noisy")
        shown = tf.where(degrade_image, degraded_image, clean_image)
        heard = tf.cond(noisy_audio, lambda: add_noise(wave, snr_db, noise_seed), lambda: wave)
        if image == "missing":
            shown = tf.zeros_like(shown)
        if audio == "missing":
            heard = heard[:0]
        return {"image": shown, "audio": heard, "lengths": tf.shape(heard)[0]}, label

    dataset = dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE).padded_batch(batch_size)
    return without_autotune(dataset.prefetch(tf.data.AUTOTUNE))
