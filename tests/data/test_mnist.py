import numpy as np
import pytest

from keras_apps.data import mnist
from keras_apps.errors import UserError
from tests.data.refusals import refuse_opening

TINY = {"train": 64, "test": 32}


def test_reads_and_validates_a_tiny_file(tiny_mnist_file):
    data = mnist.read_npz(tiny_mnist_file, sizes=TINY)
    assert data.train.images.shape == (64, 28, 28) and data.train.images.dtype == np.uint8
    assert data.test.labels.shape == (32,) and data.test.labels.dtype == np.int32


def test_load_finds_the_file_through_the_data_dir(tiny_mnist_file):
    data = mnist.load(tiny_mnist_file.parent, sizes=TINY)
    assert len(data.train) == 64 and len(data.test) == 32


def test_wrong_counts_are_rejected(tiny_mnist_file):
    with pytest.raises(UserError, match="train has 64 examples, expected 60000"):
        mnist.read_npz(tiny_mnist_file)


def test_truncated_file_is_a_clear_error(tiny_mnist_file):
    content = tiny_mnist_file.read_bytes()
    tiny_mnist_file.write_bytes(content[: len(content) // 2])
    with pytest.raises(UserError, match="corrupt or truncated"):
        mnist.read_npz(tiny_mnist_file, sizes=TINY)


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"this is not a zip archive at all" * 10)
    with pytest.raises(UserError, match="corrupt or truncated"):
        mnist.read_npz(path, sizes=TINY)


def test_an_unreadable_file_is_not_called_corrupt(tiny_mnist_file, monkeypatch):
    refuse_opening(monkeypatch, tiny_mnist_file)
    with pytest.raises(UserError) as raised:
        mnist.read_npz(tiny_mnist_file, sizes=TINY)
    assert str(raised.value) == f"cannot read {tiny_mnist_file}: Permission denied"


def test_missing_arrays_are_named(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(UserError, match="missing arrays"):
        mnist.read_npz(path, sizes=TINY)


@pytest.mark.parametrize(
    "images, labels, problem",
    [
        (np.zeros((4, 28, 28), np.float32), np.zeros(4, np.uint8), "dtype float32"),
        (np.zeros((4, 32, 32), np.uint8), np.zeros(4, np.uint8), "shape"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(3, np.uint8), "labels of shape"),
        (np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 2, 10], np.uint8), "labels run 0..10"),
    ],
)
def test_invalid_content_is_described(images, labels, problem):
    with pytest.raises(UserError, match=problem):
        mnist.validate("train", images, labels, expected_count=None, origin="x")


def write_tfds_mnist(data_dir, train=40, test=20, version="3.0.1"):
    """A tiny MNIST in the tensorflow-datasets on-disk format, written with tfds's own builder."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    generator = np.random.default_rng(1)

    def split(count):
        images = generator.integers(0, 256, (count, 28, 28, 1), dtype=np.uint8)
        labels = generator.integers(0, 10, count).astype(np.int64)
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels}), images, labels

    (train_ds, train_images, train_labels), (test_ds, _, _) = split(train), split(test)
    tfds.dataset_builders.store_as_tfds_dataset(
        name="mnist", version=version, data_dir=str(data_dir),
        split_datasets={"train": train_ds, "test": test_ds},
        features=tfds.features.FeaturesDict(
            {"image": tfds.features.Image(shape=(28, 28, 1)), "label": tfds.features.ClassLabel(num_classes=10)}
        ),
    )
    return train_images, train_labels


def test_reads_a_tensorflow_datasets_directory(tmp_path):
    train_images, train_labels = write_tfds_mnist(tmp_path)
    data = mnist.load(tmp_path, source="tfds", sizes={"train": 40, "test": 20})
    assert data.train.images.shape == (40, 28, 28) and data.train.images.dtype == np.uint8
    # tfds may store examples in another order: compare as multisets of (image, label) pairs.
    def keyed(images, labels):
        return sorted((image.tobytes(), int(label)) for image, label in zip(images.reshape(len(labels), -1), labels))
    assert keyed(data.train.images, data.train.labels) == keyed(train_images, train_labels)


def test_missing_tensorflow_datasets_directory_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no tensorflow-datasets MNIST found"):
        mnist.load(tmp_path, source="tfds")


def test_the_real_file_is_the_full_verified_dataset(real_data_dir):
    data = mnist.load(real_data_dir)
    assert len(data.train) == 60_000 and len(data.test) == 10_000
    assert list(data.train.labels[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(data.test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_the_newest_tensorflow_datasets_version_is_read_its_numbers_compared_as_numbers(tmp_path):
    write_tfds_mnist(tmp_path, train=40, test=20, version="9.0.0")
    write_tfds_mnist(tmp_path, train=24, test=12, version="10.0.0")  # before 9.0.0 as text
    data = mnist.load(tmp_path, source="tfds", sizes={"train": 24, "test": 12})
    assert (len(data.train), len(data.test)) == (24, 12)
