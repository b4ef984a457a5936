import numpy as np
import pytest

from keras_apps.data.labeled_images import LabeledImages, split_validation
from keras_apps.errors import UserError


def data(count):
    return LabeledImages(np.arange(count * 4, dtype=np.uint8).reshape(count, 2, 2), np.arange(count))


def test_validation_is_the_tail_and_disjoint():
    train, validation = split_validation(data(10), 0.2)
    assert train.labels.tolist() == list(range(8)) and validation.labels.tolist() == [8, 9]


def test_take_limits_examples():
    assert len(data(10).take(3)) == 3 and len(data(10).take(None)) == 10 and len(data(10).take(10)) == 10


def test_take_never_cuts_a_larger_count_to_fit():
    with pytest.raises(ValueError, match="cannot take 11 of 10 examples"):
        data(10).take(11)


@pytest.mark.parametrize("fraction", [0.0, 1.0, 0.01])
def test_empty_splits_are_refused(fraction):
    with pytest.raises(UserError):
        split_validation(data(10), fraction)


def test_the_validation_count_is_rounded_not_cut():
    train, validation = split_validation(data(10), 0.27)  # 2.7 examples
    assert (len(train), len(validation)) == (7, 3)
