"""Tiny image-classification data and a tiny model for runner tests, and a callback that interrupts training."""

import keras
import numpy as np

from keras_apps.data.image_pipeline import image_dataset
from keras_apps.data.labeled_images import LabeledImages
from keras_apps.models.convnet import build_convnet


def tiny_split(count=128, seed=0):
    """Images whose label is which quadrant is bright: learnable in a few steps."""
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, 4, count)
    images = generator.integers(0, 40, (count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        row, column = divmod(int(label), 2)
        images[index, row * 14:(row + 1) * 14, column * 14:(column + 1) * 14] += 200
    return LabeledImages(images, labels.astype(np.int32))


def tiny_datasets(batch_size=32, count=128):
    train = image_dataset(tiny_split(count), batch_size, drop_remainder=True)
    validation = image_dataset(tiny_split(64, seed=1), batch_size)
    return train, validation


def tiny_model():
    return build_convnet(num_classes=4, filters=(4,), dropout=0.0)


class InterruptMidEpoch(keras.callbacks.Callback):
    """Calls `interrupt()` after the second batch of epoch `epoch` (0-based): a crash or Ctrl-C in the middle."""

    def __init__(self, epoch, interrupt):
        super().__init__()
        self.epoch = epoch
        self.interrupt = interrupt

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            self.interrupt()
