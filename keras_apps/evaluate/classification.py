"""What a classifier gets right and wrong, class by class, and whether its confidence can be trusted.

Plain NumPy on the model's predicted probabilities over a test split: the confusion matrix; precision,
recall and F1 per class; and calibration — the reliability curve (accuracy against confidence, in equal-width
confidence bins) and its expected calibration error (ECE, Guo et al. 2017: the bins' gap between accuracy
and confidence, weighted by their share of examples).
"""

import numpy as np


def as_class_probabilities(probabilities):
    """`[n, classes]` probabilities; a binary classifier's `[n]` P(positive) becomes `[n, 2]`."""
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim == 1:
        return np.stack([1 - probabilities, probabilities], axis=1)
    return probabilities


def predicted_classes(probabilities):
    """The class each row of `probabilities` predicts: `[n, classes]`'s most probable, or for a binary classifier's
    `[n]` P(class 1), 1 from 0.5 up, as its export does (a tie at 0.5 is class 1, not the first column's 0)."""
    if np.ndim(probabilities) == 1:
        return (np.asarray(probabilities) >= 0.5).astype(np.int64)
    return np.asarray(probabilities).argmax(axis=1)


def accuracy_and_log_loss(labels, probabilities, floor=1e-12):
    """Accuracy and mean cross-entropy (nats, each probability at least `floor`) of predicted `probabilities`:
    `[n, classes]`, or a binary classifier's `[n]` P(class 1) (`predicted_classes`)."""
    labels, predicted = np.asarray(labels), predicted_classes(probabilities)
    probabilities = as_class_probabilities(probabilities)
    likelihood = np.clip(probabilities[np.arange(len(labels)), labels], floor, 1.0)
    return float((predicted == labels).mean()), float(-np.log(likelihood).mean())


def confusion_matrix(labels, predicted, num_classes):
    """`[true class, predicted class]` counts."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def per_class_scores(confusion):
    """Precision, recall, F1 and support per class from a confusion matrix (0 where undefined)."""
    confusion = np.asarray(confusion, np.float64)
    true_positives = np.diag(confusion)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0)
    recall = np.divide(true_positives, actual, out=np.zeros_like(true_positives), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual.astype(np.int64)}


def reliability(confidence, correct, bins=10):
    """The reliability curve over `bins` equal-width confidence bins, and the expected calibration error.

    Returns `{"bin_edges", "confidence", "accuracy", "count", "ece"}`; empty bins have NaN means.
    """
    confidence, correct = np.asarray(confidence, np.float64), np.asarray(correct, np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, minlength=bins) / count
        accuracy = np.bincount(index, correct, minlength=bins) / count
    gaps = np.where(count > 0, np.abs(accuracy - mean_confidence), 0.0)
    ece = float(np.sum(gaps * count) / max(len(confidence), 1))
    return {"bin_edges": edges, "confidence": mean_confidence, "accuracy": accuracy, "count": count, "ece": ece}


def most_confident_mistakes(labels, probabilities, count=8):
    """Indices of the wrong predictions made with the highest confidence, most confident first."""
    predicted = predicted_classes(probabilities)
    probabilities = as_class_probabilities(probabilities)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:count]]


def evaluate_classifier(labels, probabilities, class_names, bins=10):
    """Everything above for one test split, as JSON-ready lists and numbers; `probabilities` as
    `accuracy_and_log_loss` takes them."""
    labels, predicted = np.asarray(labels), predicted_classes(probabilities)
    probabilities = as_class_probabilities(probabilities)
    confusion = confusion_matrix(labels, predicted, len(class_names))
    scores = per_class_scores(confusion)
    curve = reliability(probabilities.max(axis=1), predicted == labels, bins)
    return {
        "class_names": list(class_names),
        "accuracy": float(np.mean(predicted == labels)),
        "confusion_matrix": confusion.tolist(),
        "per_class": {name: [float(value) for value in values] if name != "support" else values.tolist()
                      for name, values in scores.items()},
        "macro_f1": float(np.mean(scores["f1"])),
        "expected_calibration_error": curve["ece"],
        "reliability": {key: [None if np.isnan(value) else float(value) for value in curve[key]]
                        for key in ("confidence", "accuracy")} | {"count": curve["count"].tolist(),
                                                                  "bin_edges": curve["bin_edges"].tolist()},
    }


def evaluate_logits(labels, logits, class_names):
    """`(probabilities, evaluation, {"accuracy", "loss"})` from a classifier's logits on a test split: `[n, classes]`
    through a softmax, or a binary classifier's single logit `[n]` through a sigmoid (its `probabilities` are
    then P(class 1)). The loss is the mean cross-entropy computed from the logits, exactly."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels)
    if logits.ndim == 1:
        probabilities = 1 / (1 + np.exp(-logits))
        loss = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))  # softplus(z) - y z
    else:
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        probabilities = np.exp(log_probabilities)
        loss = -log_probabilities[np.arange(len(labels)), labels]
    evaluation = evaluate_classifier(labels, probabilities, class_names)
    return probabilities, evaluation, {"accuracy": evaluation["accuracy"], "loss": float(loss.mean())}
