import keras
import numpy as np
import pytest

from keras_apps.evaluate.classification import (
    accuracy_and_log_loss, as_class_probabilities, confusion_matrix, evaluate_classifier, evaluate_logits,
    most_confident_mistakes, per_class_scores, reliability,
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


def test_log_loss_is_read_at_the_label_and_a_binary_classifier_predicts_1_from_one_half():
    accuracy, loss = accuracy_and_log_loss([1, 0, 1], [0.5, 0.9, 1e-6])
    assert accuracy == pytest.approx(1 / 3)  # 0.5 predicts 1 (right); 0.9 predicts 1 (wrong); 1e-6 predicts 0
    assert loss == pytest.approx(-(np.log(0.5) + np.log(0.1) + np.log(1e-6)) / 3)  # 1e-6 is no floor's business
    accuracy, loss = accuracy_and_log_loss([2, 0], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
    assert accuracy == 0.5 and loss == pytest.approx(-(np.log(0.7) + np.log(0.3)) / 2)


def test_expected_calibration_error_weighs_each_bin_by_its_examples():
    # Bin (0.9, 1]: three examples, gap 0.05; bin (0.5, 0.6]: one, gap 0.55. Weighted: (3 * 0.05 + 0.55) / 4.
    assert reliability([0.95, 0.95, 0.95, 0.55], [1, 1, 1, 0])["ece"] == pytest.approx(0.175)


def test_macro_f1_is_the_unweighted_mean_of_the_class_f1s():
    # Predicted [0, 0, 1, 1] against labels [0, 0, 0, 1]: F1 0.8 for class 0 (support 3), 2/3 for class 1 (1).
    report = evaluate_classifier([0, 0, 0, 1], [0.1, 0.2, 0.7, 0.6], ["negative", "positive"])
    np.testing.assert_allclose(report["per_class"]["f1"], [0.8, 2 / 3])
    assert report["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


@pytest.mark.parametrize("binary", [True, False])
def test_evaluate_logits_matches_keras_losses_and_activations(binary):
    generator = np.random.default_rng(0)
    if binary:
        labels, logits = np.array([0, 1, 1, 0, 1]), generator.normal(0, 3, 5)
        loss = keras.losses.binary_crossentropy(labels[:, None].astype(np.float32), logits[:, None], from_logits=True)
        expected = keras.ops.sigmoid(logits)
    else:
        labels, logits = np.array([0, 2, 1, 2, 1]), generator.normal(0, 3, (5, 3))
        loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        expected = keras.ops.softmax(logits)
    probabilities, _, metrics = evaluate_logits(labels, logits, ["a", "b"] if binary else ["a", "b", "c"])
    np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(expected), rtol=1e-5)
    assert metrics["loss"] == pytest.approx(float(np.mean(keras.ops.convert_to_numpy(loss))), rel=1e-5)


def test_evaluate_logits_stays_finite_for_large_logits():
    # A confident model's logits in the hundreds: exp() of them overflows unless the softmax is computed stably.
    labels, logits = np.array([0, 1]), np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    probabilities, evaluation, metrics = evaluate_logits(labels, logits, ["a", "b", "c"])
    assert np.all(np.isfinite(probabilities)) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert metrics["accuracy"] == 1.0 and metrics["loss"] == pytest.approx(0.0, abs=1e-9)
    assert evaluation["expected_calibration_error"] == pytest.approx(0.0, abs=1e-9)


def test_evaluate_classifier_uses_the_bins_it_is_given():
    report = evaluate_classifier([0, 1, 1], [0.2, 0.9, 0.6], ["negative", "positive"], bins=4)
    assert len(report["reliability"]["count"]) == 4 and len(report["reliability"]["bin_edges"]) == 5
    assert sum(report["reliability"]["count"]) == 3


def test_a_binary_tie_is_the_class_its_export_predicts_in_every_figure():
    """P(positive) 0.5 (a logit of exactly 0) is a positive verdict in the export: the published accuracy, confusion
    matrix and F1 count it so too, as the export's check does."""
    labels, logits = np.array([1, 0]), np.array([0.0, -3.0])
    probabilities, evaluation, test = evaluate_logits(labels, logits, ["negative", "positive"])
    assert test["accuracy"] == accuracy_and_log_loss(labels, probabilities)[0] == 1.0
    assert evaluation["confusion_matrix"] == [[1, 0], [0, 1]] and evaluation["macro_f1"] == 1.0
    assert most_confident_mistakes(labels, probabilities).tolist() == []
