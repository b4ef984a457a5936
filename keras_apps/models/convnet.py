"""The classic two-convolution network for small images (the keras.io "simple MNIST convnet")."""

import keras
from keras import layers

from keras_apps.models.image_input import image_input


def convnet_features(x, filters=(32, 64)):
    """Per entry of `filters` a 3x3 convolution (ReLU) and 2x2 max-pooling, then flattened: the features the
    classifier, or a fusion of senses (`keras_apps.models.fusion`), builds on."""
    if not filters:
        raise ValueError("filters must name at least one convolution")
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(count, 3, activation="relu", name=f"conv{index}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    return layers.Flatten(name="flatten")(x)


def build_convnet(input_shape=(28, 28), num_classes=10, filters=(32, 64), dropout=0.5, name="convnet"):
    """Conv-pool blocks, then dropout and a dense layer that returns logits.

    Args:
        input_shape: `(height, width)` for grayscale or `(height, width, channels)`; inputs are uint8.
        num_classes: number of output logits.
        filters: one 3x3 convolution (ReLU) followed by 2x2 max-pooling per entry.
        dropout: dropout rate before the classifier.
    """
    inputs, x = image_input(input_shape)
    x = convnet_features(x, filters)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # float32 under mixed precision too
    return keras.Model(inputs, logits, name=name)
