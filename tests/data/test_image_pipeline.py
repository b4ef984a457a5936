import numpy as np

from keras_apps.data.image_pipeline import RandomAffine, image_dataset
from keras_apps.data.labeled_images import LabeledImages


def digits(count=10):
    images = np.zeros((count, 28, 28), np.uint8)
    images[:, 10:18, 12:16] = 255
    return LabeledImages(images, np.arange(count) % 10)


def test_batches_keep_uint8_images_and_int32_labels():
    dataset = image_dataset(digits(10), 4, drop_remainder=True)
    batches = list(dataset)
    assert not dataset.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    assert len(batches) == 2
    images, labels = batches[0]
    assert images.dtype == "uint8" and images.shape == (4, 28, 28) and labels.dtype == "int32"


def test_shuffle_is_seeded():
    first = [labels.numpy().tolist() for _, labels in image_dataset(digits(10), 10, shuffle=True, seed=3)]
    second = [labels.numpy().tolist() for _, labels in image_dataset(digits(10), 10, shuffle=True, seed=3)]
    assert first == second and sorted(first[0]) == list(range(10))


def test_each_epoch_of_one_dataset_is_shuffled_anew():
    dataset = image_dataset(digits(10), 10, shuffle=True, seed=3)
    first, second = ([labels.numpy().tolist() for _, labels in dataset] for _ in range(2))
    assert first != second and sorted(first[0]) == sorted(second[0])


def test_augmentation_moves_pixels_but_keeps_dtype_shape_and_labels():
    source = digits(8)
    images, labels = next(iter(image_dataset(source, 8, augment=RandomAffine(seed=1))))
    assert images.dtype == "uint8" and images.shape == (8, 28, 28)
    assert labels.numpy().tolist() == source.labels.tolist()
    assert not np.array_equal(images.numpy(), source.images)
    assert images.numpy().max() > 200  # the digit survives the transformation
    assert not np.array_equal(images[0], images[1])  # identical inputs, each transformed its own way


def _augmented(seed):
    return next(iter(image_dataset(digits(8), 8, augment=RandomAffine(seed=seed))))[0].numpy()


def test_augmentation_is_seeded():
    np.testing.assert_array_equal(_augmented(1), _augmented(1))
    assert not np.array_equal(_augmented(1), _augmented(2))


def test_a_seed_gives_the_same_augmented_epochs_though_batches_are_transformed_in_parallel():
    # The layers draw from one random state; drawn in parallel, batches took each other's draws in another order
    # each time (every one of nine two-epoch runs below differed).
    images = np.random.default_rng(0).integers(0, 256, (512, 28, 28), dtype=np.uint8)
    source = LabeledImages(images, np.arange(512) % 10)

    def two_epochs():
        dataset = image_dataset(source, 8, shuffle=True, seed=1, augment=RandomAffine(seed=1))
        return [batch.numpy() for _ in range(2) for batch, _ in dataset]

    first, second = two_epochs(), two_epochs()
    assert len(first) == 128
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
