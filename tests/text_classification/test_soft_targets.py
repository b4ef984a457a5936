"""Soft targets from a teacher: how they join the labeled examples, and the accuracy that reads them."""

import keras
import numpy as np
import pytest

from keras_apps.text_classification.soft_targets import SoftTargetAccuracy, with_soft_targets


def test_soft_targets_follow_the_labeled_examples():
    texts, targets = with_soft_targets(["good", "bad"], np.array([1, 0]), ["fine", "dull", "odd"], [0.9, 0.2, 0.5])
    assert texts == ["good", "bad", "fine", "dull", "odd"]
    assert targets.dtype == np.float32
    np.testing.assert_allclose(targets, [1, 0, 0.9, 0.2, 0.5])


@pytest.mark.parametrize("probabilities, message", [
    ([0.5], "2 unlabeled examples need as many probabilities"),
    ([0.5, 1.5], r"must lie in \[0, 1\]"),
    ([0.5, -0.1], r"must lie in \[0, 1\]"),
    ([0.5, np.nan], r"must lie in \[0, 1\]"),
])
def test_bad_teacher_probabilities_are_refused(probabilities, message):
    with pytest.raises(ValueError, match=message):
        with_soft_targets(["good"], [1], ["fine", "dull"], probabilities)


def test_on_hard_labels_it_is_binary_accuracy():
    labels = np.array([[1.0], [0.0], [1.0], [0.0]])
    logits = np.array([[2.0], [0.5], [-1.0], [-3.0]])
    soft, hard = SoftTargetAccuracy(threshold=0.0), keras.metrics.BinaryAccuracy(threshold=0.0)
    soft.update_state(labels, logits)
    hard.update_state(labels, logits)
    assert float(soft.result()) == float(hard.result()) == 0.5


def test_on_soft_targets_it_is_agreement_with_the_teacher():
    metric = SoftTargetAccuracy(threshold=0.0)
    metric.update_state(np.array([[0.9], [0.2], [0.7], [0.4]]), np.array([[1.0], [-1.0], [-1.0], [1.0]]))
    assert float(metric.result()) == 0.5  # agrees on the first two, not on the last two


def test_a_soft_target_counts_as_its_nearest_label():
    metric = SoftTargetAccuracy(threshold=0.0)
    metric.update_state(np.array([[0.9], [0.6]]), np.array([[1.0], [1.0]]))
    assert float(metric.result()) == 1.0  # 0.6 leans positive, as the logit does


def test_it_is_rebuilt_from_its_config():
    metric = SoftTargetAccuracy(threshold=0.0, name="accuracy")
    copy = type(metric).from_config(metric.get_config())
    assert isinstance(copy, SoftTargetAccuracy) and copy.name == "accuracy" and copy.threshold == 0.0
