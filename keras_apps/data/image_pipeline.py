"""tf.data pipelines for labeled uint8 images: shuffling, augmentation, batching, prefetching.

Images stay uint8 all the way to the model, which rescales them itself; augmentation converts to float,
transforms, and rounds back, so training sees exactly the kind of input the exported model serves.
"""

import numpy as np
import tensorflow as tf
from keras import layers

from keras_apps.data.autotune import without_autotune


class RandomAffine:
    """Small random rotations, translations and zooms, the augmentation that lifts MNIST past 99.5 %.

    Built from Keras's preprocessing layers, applied to whole batches inside `tf.data` (each image gets its
    own transformation), and seeded. `rotation` is a fraction of a full turn (0.03: up to about 11 degrees);
    `translation` and `zoom` are fractions of the image size.

    The layers draw from one random state, so a pipeline draws every batch's transformations in batch order
    (`draw`, cheap) and resamples the images in parallel (`apply`): a seed gives the same batches in every
    process, which drawing in parallel did not.
    """

    def __init__(self, rotation=0.03, translation=0.1, zoom=0.1, seed=None):
        options = dict(fill_mode="constant", seed=seed)
        self.layers = [
            layers.RandomRotation(rotation, **options),
            layers.RandomTranslation(translation, translation, **options),
            layers.RandomZoom(zoom, **options),
        ]

    def draw(self, images, labels):
        """The batch with each layer's random transformation of it."""
        pixels = _as_float_batch(images)
        return images, labels, tuple(layer.get_random_transformation(pixels, training=True) for layer in self.layers)

    def apply(self, images, labels, transformations):
        """The batch transformed as drawn, rounded back to uint8."""
        pixels = _as_float_batch(images)
        for layer, transformation in zip(self.layers, transformations):
            pixels = layer.transform_images(pixels, transformation, training=True)
        pixels = tf.cast(tf.clip_by_value(tf.round(pixels), 0, 255), tf.uint8)
        return tf.reshape(pixels, tf.shape(images)), labels


def _as_float_batch(images):
    """float32 images with a channel axis, as the layers take them."""
    pixels = tf.cast(images, tf.float32)
    return pixels if images.shape.rank == 4 else pixels[..., tf.newaxis]


def image_dataset(data, batch_size, *, shuffle=False, seed=None, augment=None, drop_remainder=False):
    """A batched, prefetched `tf.data.Dataset` of `(uint8 images, int32 labels)`."""
    dataset = tf.data.Dataset.from_tensor_slices((data.images, np.asarray(data.labels, np.int32)))
    if shuffle:
        dataset = dataset.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if augment is not None:
        dataset = dataset.map(augment.draw).map(augment.apply, num_parallel_calls=tf.data.AUTOTUNE)
    return without_autotune(dataset.prefetch(tf.data.AUTOTUNE))
