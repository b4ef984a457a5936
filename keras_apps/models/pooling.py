"""Pooling a sequence of token vectors into one vector per text."""

from keras import ops


def masked_mean(x, padding_mask):
    """The average of the real tokens' vectors; zero for a text with none (an empty string), not NaN."""
    weights = ops.expand_dims(ops.cast(padding_mask, x.dtype), axis=-1)
    return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
