"""MNIST handwritten digits, read from `mnist.npz` (Keras's file) or from a tensorflow-datasets directory.

Whatever the source, the arrays are validated before anyone trains on them: a truncated or corrupt file
is a one-line `UserError`, never a silent half-dataset.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_apps.data.archives import READ_ERRORS, read_error
from keras_apps.data.labeled_images import LabeledImages
from keras_apps.data.locate import RemoteFile, locate
from keras_apps.errors import UserError

MNIST_FILE = RemoteFile(
    name="mnist.npz",
    origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
)
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
SIZES = {"train": 60_000, "test": 10_000}
SOURCES = ("file", "tfds")


@dataclass(frozen=True)
class MNIST:
    """The two official splits; validation is carved from `train` by the caller."""

    train: LabeledImages
    test: LabeledImages


def validate(split, images, labels, *, expected_count, origin):
    """Checks shape, dtype, label range and count; returns the arrays as uint8 `[n, 28, 28]` and int32."""
    problem = None
    if images.dtype != np.uint8:
        problem = f"{split} images have dtype {images.dtype}, expected uint8"
    elif images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        problem = f"{split} images have shape {images.shape}, expected (n, 28, 28)"
    elif labels.ndim != 1 or len(labels) != len(images):
        problem = f"{split} has {len(images)} images but labels of shape {labels.shape}"
    elif not np.issubdtype(labels.dtype, np.integer):
        problem = f"{split} labels have dtype {labels.dtype}, expected integers"
    elif len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        problem = f"{split} labels run {labels.min()}..{labels.max()}, expected 0..{NUM_CLASSES - 1}"
    elif expected_count is not None and len(labels) != expected_count:
        problem = f"{split} has {len(labels)} examples, expected {expected_count}"
    elif len(labels) == 0:
        problem = f"{split} is empty"
    if problem:
        raise UserError(f"{origin} is not a valid MNIST dataset: {problem}")
    return LabeledImages(images, labels.astype(np.int32))


def read_npz(path, *, sizes=SIZES):
    """Reads and validates Keras's `mnist.npz` (arrays `x_train`, `y_train`, `x_test`, `y_test`)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(archive.files)
            if missing:
                raise UserError(f"{path} is not a valid MNIST dataset: missing arrays {sorted(missing)}")
            arrays = {name: archive[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    except READ_ERRORS as exc:
        raise read_error(path, exc) from None
    return MNIST(
        train=validate("train", arrays["x_train"], arrays["y_train"], expected_count=sizes["train"], origin=path),
        test=validate("test", arrays["x_test"], arrays["y_test"], expected_count=sizes["test"], origin=path),
    )


def tfds_directory(data_dir=None):
    """The tensorflow-datasets data directory: `--data-dir`, then `$TFDS_DATA_DIR`, then tfds's default."""
    return Path(data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets").expanduser()


def read_tfds(data_dir=None, *, sizes=SIZES):
    """Reads MNIST prepared by tensorflow-datasets (`<data_dir>/mnist/<version>/`), newest version first.

    This reads what is on disk and never downloads: users who keep their datasets in a tfds directory
    point `--data-dir` at it.
    """
    dataset_root = tfds_directory(data_dir) / "mnist"
    versions = sorted(
        (path for path in dataset_root.glob("*") if (path / "dataset_info.json").is_file()),
        key=lambda path: tuple(int(part) if part.isascii() and part.isdigit() else -1 for part in path.name.split(".")),
    )
    if not versions:
        raise UserError(
            f"no tensorflow-datasets MNIST found under {dataset_root}; prepare it with tfds or pass "
            f"--data-dir pointing at your tfds data directory"
        )
    import tensorflow_datasets as tfds

    builder = tfds.builder_from_directory(str(versions[-1]))
    splits = {}
    for split in ("train", "test"):
        try:
            batch = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        except Exception as exc:  # tfds raises several types for missing splits and bad records.
            raise UserError(f"cannot read the {split} split from {versions[-1]}: {exc}".splitlines()[0]) from exc
        images = batch["image"]
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        splits[split] = validate(
            split, images, batch["label"], expected_count=sizes[split], origin=versions[-1]
        )
    return MNIST(train=splits["train"], test=splits["test"])


def load(data_dir=None, *, source="file", sizes=None):
    """MNIST from the chosen source, validated against `sizes` (default `SIZES`)."""
    sizes = sizes or SIZES
    if source == "file":
        return read_npz(locate(MNIST_FILE, data_dir), sizes=sizes)
    if source == "tfds":
        return read_tfds(data_dir, sizes=sizes)
    raise UserError(f"unknown data source {source!r}; choose one of {', '.join(SOURCES)}")
