"""The input stage every image model shares: raw uint8 pixels in, scaled float features out.

Putting the rescaling inside the model is what lets an export serve the images a user has.
"""

import keras
from keras import layers

from keras_apps.models import parts


def image_input(input_shape, name="images"):
    """Returns `(inputs, features)`: a uint8 `keras.Input` and its `[0, 1]`-scaled 4-D float tensor.

    Grayscale images may come without a channel axis (`(28, 28)`); a channel axis of 1 is added then.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (height, width) or (height, width, channels), got {input_shape}")
    inputs = keras.Input(shape=input_shape, dtype="uint8", name=name)
    features = inputs
    if len(input_shape) == 2:
        features = layers.Reshape(input_shape + (1,), name="add_channel_axis")(features)
    features = layers.Rescaling(1.0 / 255, name=parts.RESCALE)(features)
    return inputs, features
