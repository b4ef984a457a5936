"""Distillation onto unlabeled examples: a teacher's probabilities become extra training targets.

A small sequence model trained on 22,500 labeled reviews learns them by heart within a few epochs. A teacher
trained on the same reviews (a fast and accurate bag-of-n-grams model) gives its P(positive) for the 50,000
unlabeled ones, and the student learns from both: three times the text, with soft targets that also say
how sure the teacher is (Hinton et al., 2015, "Distilling the knowledge in a neural network"). No label the
student does not see reaches it through the teacher, and no test review is used.
"""

import keras
import numpy as np


def with_soft_targets(examples, labels, unlabeled, probabilities):
    """`(examples + unlabeled, targets)`: the 0/1 `labels` followed by the teacher's `probabilities`."""
    probabilities = np.asarray(probabilities, np.float32)
    if probabilities.shape != (len(unlabeled),):
        raise ValueError(f"{len(unlabeled)} unlabeled examples need as many probabilities, got {probabilities.shape}")
    if not np.all((probabilities >= 0) & (probabilities <= 1)):
        raise ValueError("a teacher's probabilities must lie in [0, 1]")
    return list(examples) + list(unlabeled), np.concatenate([np.asarray(labels, np.float32), probabilities])


@keras.saving.register_keras_serializable(package="keras_apps")
class SoftTargetAccuracy(keras.metrics.BinaryAccuracy):
    """Binary accuracy against targets rounded to 0 or 1.

    On 0/1 labels it is `BinaryAccuracy`; on a teacher's soft targets it is agreement with the teacher's
    verdict, where `BinaryAccuracy` would count every soft target as missed.
    """

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(keras.ops.round(y_true), y_pred, sample_weight=sample_weight)
