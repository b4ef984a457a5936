import numpy as np
import pytest

from keras_apps.evaluate.classification import (
    as_class_probabilities, confusion_matrix, evaluate_classifier, most_confident_mistakes, per_class_scores,
    reliability,
)

LABELS = [0, 0, 1, 1, 2, 2]
PREDICTED = [0, 1, 1, 1, 2, 0]


def test_confusion_matrix_counts_true_against_predicted():
    assert confusion_matrix(LABELS, PREDICTED, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_precision_recall_f1_by_hand():
    scores = per_class_scores(confusion_matrix(LABELS, PREDICTED, 3))
    np.testing.assert_allclose(scores["precision"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(scores["recall"], [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(scores["f1"], [1 / 2, 0.8, 2 / 3])
    assert scores["support"].tolist() == [2, 2, 2]


def test_a_class_never_predicted_or_present_scores_zero_not_nan():
    scores = per_class_scores(confusion_matrix([0, 0], [0, 0], 2))
    assert scores["precision"].tolist() == [1, 0] and scores["f1"].tolist() == [1, 0]


def test_expected_calibration_error_by_hand():
    confidence, correct = [0.95, 0.85, 0.55, 0.65], [1, 0, 1, 1]
    curve = reliability(confidence, correct, bins=10)
    assert curve["ece"] == pytest.approx((0.05 + 0.85 + 0.45 + 0.35) / 4)
    assert curve["count"].tolist() == [0, 0, 0, 0, 0, 1, 1, 0, 1, 1]
    assert np.isnan(curve["accuracy"][0]) and curve["accuracy"][8] == 0
    # Two bins: all four fall in (0.5, 1], mean confidence 0.75 against accuracy 0.75: perfectly calibrated.
    assert reliability(confidence, correct, bins=2)["ece"] == pytest.approx(0.0)
    assert reliability([1.0, 0.5], [1, 1], bins=2)["count"].tolist() == [1, 1]


def test_most_confident_mistakes_come_first():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95]])
    assert most_confident_mistakes([0, 0, 1, 0], probabilities).tolist() == [3, 1, 2]
    assert most_confident_mistakes([0, 0, 1, 0], probabilities, count=1).tolist() == [3]


def test_binary_probabilities_become_two_classes():
    np.testing.assert_allclose(as_class_probabilities([0.25, 1.0]), [[0.75, 0.25], [0.0, 1.0]])
    report = evaluate_classifier([1, 0, 1], [0.9, 0.4, 0.3], ["negative", "positive"])
    assert report["accuracy"] == pytest.approx(2 / 3) and report["confusion_matrix"] == [[1, 0], [1, 1]]
    assert report["per_class"]["recall"] == [1.0, 0.5] and report["per_class"]["support"] == [1, 2]
    assert report["macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    # Confidences 0.9 (right), 0.6 (right), 0.7 (wrong), one per bin: (0.1 + 0.4 + 0.7) / 3.
    assert sum(report["reliability"]["count"]) == 3
    assert report["expected_calibration_error"] == pytest.approx(0.4)
