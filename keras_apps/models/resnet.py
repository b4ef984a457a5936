"""A small residual network with batch normalization, for 28x28 and 32x32 images.

The CIFAR-style layout of He et al. (2016): a 3x3 stem, then stages of basic blocks whose width doubles
and resolution halves from one stage to the next, then global average pooling.

Batch normalization is synchronized: its statistics are those of the global batch, summed across replicas.
Trained on several devices or workers, the network then learns what it would on one device with the same
global batch, and every worker keeps the same moving averages (unsynchronized, each would average its own
share of the batch, and the workers' copies of the model would drift apart).
"""

import keras
from keras import layers

from keras_apps.models.image_input import image_input


def _conv_bn(x, filters, kernel_size, strides, name, activation=True):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(synchronized=True, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if activation else x


def _basic_block(x, filters, strides, name):
    residual = _conv_bn(x, filters, 3, strides, f"{name}_a")
    residual = _conv_bn(residual, filters, 3, 1, f"{name}_b", activation=False)
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_shortcut", activation=False)
    x = layers.Add(name=f"{name}_add")([residual, shortcut])
    return layers.ReLU(name=f"{name}_out")(x)


def build_resnet(
    input_shape=(28, 28), num_classes=10, width=16, blocks_per_stage=2, stages=3, dropout=0.0, name="resnet"
):
    """Builds the network; returns a model that maps uint8 images to logits.

    The defaults (width 16, two blocks per stage: a ResNet-14 of 176,090 parameters) reach 99.6 % on MNIST
    with augmentation in 15 epochs; one block per stage halves the cost and loses about 0.2 points.

    Args:
        input_shape: `(height, width)` for grayscale or `(height, width, channels)`.
        num_classes: number of output logits.
        width: filters of the stem and the first stage; each later stage doubles it.
        blocks_per_stage: the depth, in basic blocks (two 3x3 convolutions) per stage.
        stages: number of stages; every stage after the first halves the resolution.
        dropout: dropout rate before the classifier.
    """
    if width < 1 or blocks_per_stage < 1 or stages < 1:
        raise ValueError("width, blocks_per_stage and stages must all be at least 1")
    inputs, x = image_input(input_shape)
    x = _conv_bn(x, width, 3, 1, "stem")
    for stage in range(stages):
        for block in range(blocks_per_stage):
            strides = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, width * 2**stage, strides, f"stage{stage + 1}_block{block + 1}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # float32 under mixed precision too
    return keras.Model(inputs, logits, name=name)
