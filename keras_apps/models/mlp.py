"""The multilayer perceptron: pixels flattened into dense layers, the smallest model that learns MNIST well.

Ten times cheaper to run than the convolutional models and quick to overfit, it is the student that
knowledge distillation (`keras_apps.compress.distiller`) helps most.
"""

import keras
from keras import layers

from keras_apps.models.image_input import image_input


def build_mlp(input_shape=(28, 28), num_classes=10, hidden_units=(128,), dropout=0.0, name="mlp"):
    """Flattened uint8 pixels through ReLU layers of `hidden_units` to `num_classes` logits."""
    inputs, x = image_input(input_shape)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"hidden{index}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{index}")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # float32 under mixed precision too
    return keras.Model(inputs, logits, name=name)
