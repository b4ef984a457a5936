"""Labeled images held as NumPy arrays, and the validation split carved from a training split."""

from dataclasses import dataclass

import numpy as np

from keras_apps.errors import UserError


@dataclass(frozen=True)
class LabeledImages:
    """Images (uint8, `[n, height, width]` or `[n, height, width, channels]`) and integer labels."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)

    def take(self, count):
        """The first `count` examples (all of them when `count` is None). More than there are is a caller's
        mistake, never cut to fit: check a user's count first (`settings.count_within`)."""
        if count is not None and count > len(self):
            raise ValueError(f"cannot take {count:,} of {len(self):,} examples")
        return LabeledImages(self.images[:count], self.labels[:count])


def split_validation(data, fraction):
    """Carves the last `fraction` of `data` off as a validation set; returns (train, validation).

    The tail rather than a random draw keeps the split identical across runs and seeds, so validation
    figures of two runs are comparable; MNIST's training order is not sorted by class.
    """
    if not 0 < fraction < 1:
        raise UserError(f"the validation fraction must be in (0, 1), got {fraction}")
    count = int(round(len(data) * fraction))
    if count == 0 or count == len(data):
        raise UserError(f"a validation fraction of {fraction} of {len(data)} examples leaves an empty split")
    cut = len(data) - count
    return (
        LabeledImages(data.images[:cut], data.labels[:cut]),
        LabeledImages(data.images[cut:], data.labels[cut:]),
    )
