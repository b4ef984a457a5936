import numpy as np
import pytest
import tensorflow as tf

from keras_apps.data.audio_visual import PrincipalComponents, add_noise, pair, pair_dataset
from keras_apps.data.labeled_images import LabeledImages
from keras_apps.data.spoken_digits import Recordings
from keras_apps.errors import UserError


def recordings(per_digit=3):
    """Recording r of digit d: `per_digit` recordings of each digit, 100 * d + r + 500 samples of (d + 1) / 10."""
    labels = np.repeat(np.arange(10, dtype=np.int32), per_digit)
    indices = np.tile(np.arange(per_digit, dtype=np.int32), 10)
    waves = [np.full(100 * digit + index + 500, (digit + 1) / 10, np.float32) for digit, index in zip(labels, indices)]
    return Recordings(waves, labels, np.array(["ann"] * len(labels)), indices)


def images(count=200, seed=0):
    """`count` random images, labels cycling through the digits; pixel [0, 0] holds the image's number."""
    pixels = np.random.default_rng(seed).integers(1, 256, (count, 28, 28)).astype(np.uint8)
    pixels[:, 0, 0] = np.arange(count)
    return LabeledImages(pixels, np.arange(count, dtype=np.int32) % 10)


def test_each_recording_gets_different_images_of_its_digit_and_the_seed_fixes_them():
    pairs = pair(recordings(), images(), per_recording=4, seed=0)
    assert len(pairs) == 120
    shown = pairs.images[:, 0, 0]
    np.testing.assert_array_equal(shown % 10, pairs.labels)  # an image of the recording's digit
    np.testing.assert_array_equal([wave[0] for wave in pairs.waveforms], ((pairs.labels + 1) / 10).astype(np.float32))
    assert len(set(shown)) == 120  # 200 images are enough: none used twice
    np.testing.assert_array_equal(pair(recordings(), images(), 4, seed=0).images, pairs.images)
    assert not np.array_equal(pair(recordings(), images(), 4, seed=1).images, pairs.images)


def test_too_few_images_are_drawn_again_and_a_digit_without_any_is_refused():
    pairs = pair(recordings(), images(count=20), per_recording=4, seed=0)  # 2 images a digit for 12 pairs
    np.testing.assert_array_equal(pairs.images[:, 0, 0] % 10, pairs.labels)
    no_nines = images()
    no_nines = LabeledImages(no_nines.images[no_nines.labels != 9], no_nines.labels[no_nines.labels != 9])
    with pytest.raises(UserError, match="no image of the digit 9 to pair with its 3 recordings"):
        pair(recordings(), no_nines, 1, seed=0)


def test_principal_components_keep_the_stated_variance():
    generator = np.random.default_rng(0)
    # Pixels varying along three directions with variances 9, 4 and 1 (of 14) around a mean of 100.
    directions = np.linalg.qr(generator.normal(size=(784, 3)))[0]
    weights = generator.normal(size=(4000, 3)) * [3.0, 2.0, 1.0]
    pictures = np.clip(np.rint(100 + 10 * weights @ directions.T), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    assert PrincipalComponents.fit(pictures, 0.5).components.shape == (784, 1)  # 9/14 of the variance
    assert PrincipalComponents.fit(pictures, 0.8).components.shape == (784, 2)  # 13/14, less the rounding
    whole = PrincipalComponents.fit(pictures, 1.0)
    assert np.abs(whole.degrade(pictures).astype(int) - pictures).max() <= 1  # all of it: the image, rounded
    pixels = pictures.astype(float)
    removed = pixels - PrincipalComponents.fit(pictures, 0.5).degrade(pictures)
    assert 0.3 < removed.var(axis=0).sum() / pixels.var(axis=0).sum() < 0.45  # 5/14 and the rounding, gone


def test_noise_sits_at_the_stated_signal_to_noise_ratio():
    time = np.arange(80_000) / 8000
    wave = (0.5 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
    noisy = np.asarray(add_noise(wave, -5.0, [1, 2]))
    measured = 10 * np.log10(np.mean(wave ** 2) / np.mean((noisy - wave) ** 2))
    assert abs(measured + 5.0) < 0.1
    np.testing.assert_array_equal(add_noise(wave, -5.0, [1, 2]), noisy)


def batches(dataset):
    return [({name: value.numpy() for name, value in inputs.items()}, labels.numpy()) for inputs, labels in dataset]


def test_each_condition_shows_and_plays_what_it_says():
    pairs = pair(recordings(), images(), 1, seed=0)
    components = PrincipalComponents.fit(images().images, 0.25)
    dataset = pair_dataset(pairs, 8, components, 0.0)
    assert not dataset.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    clean = batches(dataset)
    first, labels = clean[0]
    np.testing.assert_array_equal(first["image"], pairs.images[:8])
    np.testing.assert_array_equal(first["lengths"], [len(wave) for wave in pairs.waveforms[:8]])
    np.testing.assert_array_equal(first["audio"][0, : first["lengths"][0]], pairs.waveforms[0])
    assert (first["audio"][0, first["lengths"][0]:] == 0).all()  # zero-padded to the batch's longest
    np.testing.assert_array_equal(labels, pairs.labels[:8])

    degraded, _ = batches(pair_dataset(pairs, 8, components, 0.0, image="degraded", audio="noisy"))[0]
    np.testing.assert_array_equal(degraded["image"], components.degrade(pairs.images[:8]))
    np.testing.assert_array_equal(degraded["lengths"], first["lengths"])
    assert not np.allclose(degraded["audio"][0, : first["lengths"][0]], pairs.waveforms[0])
    missing, _ = batches(pair_dataset(pairs, 8, components, 0.0, image="missing", audio="missing"))[0]
    assert not missing["image"].any() and not missing["lengths"].any()
    with pytest.raises(ValueError, match="image must be one of"):
        pair_dataset(pairs, 8, components, 0.0, image="blurred")


def test_a_mixed_pipeline_degrades_half_fixed_for_validation_and_drawn_anew_for_training():
    pairs = pair(recordings(per_digit=20), images(), 1, seed=0)
    components = PrincipalComponents.fit(images().images, 0.25)

    def degraded_shares(dataset):
        rows = [(inputs["image"] != pairs_image).any(axis=(1, 2)) for inputs, pairs_image in
                zip((batch for batch, _ in batches(dataset)), np.split(pairs.images, len(pairs) // 50))]
        return np.concatenate(rows)

    validation = pair_dataset(pairs, 50, components, 0.0, mixed=True, seed=3)
    first = degraded_shares(validation)
    assert 0.35 < first.mean() < 0.65
    np.testing.assert_array_equal(degraded_shares(validation), first)  # the same every epoch
    training = pair_dataset(pairs, 50, components, 0.0, mixed=True, shuffle=True, seed=3)
    epochs = [sorted(int(label) for _, labels in batches(training) for label in labels) for _ in range(2)]
    assert epochs[0] == epochs[1] == sorted(pairs.labels.tolist())  # every pair once an epoch


def test_a_test_condition_s_noise_depends_on_its_seed_alone_not_on_tensorflow_s_global_seed():
    pairs = pair(recordings(), images(), 1, seed=0)
    components = PrincipalComponents.fit(images().images, 0.25)

    def noisy(global_seed, seed=0):
        tf.random.set_seed(global_seed)
        return batches(pair_dataset(pairs, 30, components, 0.0, image="degraded", audio="noisy", seed=seed))

    first, again = noisy(1), noisy(2)
    for (inputs, _), (repeated, _) in zip(first, again):
        np.testing.assert_array_equal(inputs["audio"], repeated["audio"])
    assert not np.array_equal(noisy(1, seed=5)[0][0]["audio"], first[0][0]["audio"])

