"""Pooling over real tokens: padding never counts, and a text with no tokens pools to zeros."""

import numpy as np
import pytest

from keras_apps.models.pooling import POOLINGS, masked_max, masked_mean, pool_tokens

X = np.array([[[1.0, -5.0], [3.0, -1.0], [99.0, 99.0]], [[-2.0, -4.0], [-9.0, -9.0], [-9.0, -9.0]]], "float32")
MASK = np.array([[True, True, False], [True, False, False]])


def test_mean_and_max_read_the_real_tokens_only():
    np.testing.assert_allclose(masked_mean(X, MASK), [[2.0, -3.0], [-2.0, -4.0]])
    np.testing.assert_allclose(masked_max(X, MASK), [[3.0, -1.0], [-2.0, -4.0]])


def test_a_text_without_tokens_pools_to_zeros():
    empty = np.zeros((2, 3), bool)
    for pooling in POOLINGS:
        np.testing.assert_array_equal(pool_tokens(X, empty, pooling), 0.0)


def test_mean_max_concatenates_both():
    np.testing.assert_allclose(pool_tokens(X, MASK, "mean-max"), [[2.0, -3.0, 3.0, -1.0], [-2.0, -4.0, -2.0, -4.0]])
    with pytest.raises(ValueError, match="pooling"):
        pool_tokens(X, MASK, "sum")
