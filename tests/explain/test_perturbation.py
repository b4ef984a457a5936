"""LIME and SHAP through their libraries, on models whose every feature's contribution is known."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from keras_apps.explain import perturbation

WORD_WEIGHTS = {"superb": 3.0, "good": 1.5, "fine": 0.5, "dull": -1.0, "awful": -2.5}
REVIEW = "a superb cast but dull pacing and fine music and an awful end though good"


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def linear_text_model(texts):
    """P(positive) rises with each word's known weight; other words count for nothing."""
    return sigmoid(np.array([sum(WORD_WEIGHTS.get(word, 0.0) for word in text.split()) for text in texts]) / 2)


def bar_image():
    """A digit-like image: four bright bars on black."""
    image = np.zeros((28, 28), np.uint8)
    for row in (4, 10, 16, 22):
        image[row:row + 3, 6:22] = 255
    return image


BAR_WEIGHTS = {4: 2.0, 10: 1.0, 16: -0.5, 22: -1.5}  # the weight of every pixel of the bar at that row


def linear_image_model(images):
    weights = np.zeros((28, 28))
    for row, weight in BAR_WEIGHTS.items():
        weights[row:row + 3, 6:22] = weight
    return sigmoid((np.asarray(images, np.float64) / 255 * weights).sum(axis=(1, 2)) / 40)


def bar_values(values):
    return [float(values[row:row + 3, 6:22].mean()) for row in BAR_WEIGHTS]


@pytest.mark.parametrize("explain", [perturbation.lime_text, perturbation.shap_text])
def test_the_words_are_ranked_by_their_true_weight(explain):
    explanation = explain(linear_text_model, REVIEW, samples=500) if explain is perturbation.lime_text else \
        explain(linear_text_model, REVIEW, evaluations=500)
    words = REVIEW.split()
    weighted = [index for index, word in enumerate(words) if word in WORD_WEIGHTS]
    found = explanation.values[weighted]
    assert spearmanr(found, [WORD_WEIGHTS[words[index]] for index in weighted]).statistic == pytest.approx(1.0)
    others = np.delete(explanation.values, weighted)
    assert np.abs(others).max() < 0.1 * np.abs(found).min()  # and the other words next to nothing
    assert explanation.model_calls <= 500 and explanation.seconds > 0


@pytest.mark.parametrize("method", ["lime", "shap"])
def test_the_image_regions_are_ranked_by_their_true_weight(method):
    image = bar_image()
    explanation = (perturbation.lime_image(linear_image_model, image, samples=1000) if method == "lime"
                   else perturbation.shap_image(linear_image_model, image, evaluations=2000))
    assert explanation.values.shape == image.shape
    found = bar_values(explanation.values)
    assert found == sorted(found, reverse=True) and found[0] > 0 > found[-1]


def test_shap_values_add_up_to_the_change_from_the_masked_input():
    image = bar_image()
    values = perturbation.shap_image(linear_image_model, image, evaluations=2000).values
    change = linear_image_model(image[None])[0] - linear_image_model(np.zeros((1, 28, 28)))[0]
    assert values.sum() == pytest.approx(change, abs=1e-6)
    text_values = perturbation.shap_text(linear_text_model, REVIEW, evaluations=500).values
    assert text_values.sum() == pytest.approx(linear_text_model([REVIEW])[0] - linear_text_model([""])[0], abs=1e-6)


def test_the_cost_is_counted_in_examples_scored():
    explanation = perturbation.lime_text(linear_text_model, "good film", samples=64)
    assert explanation.model_calls == 64 and explanation.cost.startswith("LIME, ")


def test_shap_gives_a_one_word_text_the_whole_change_from_no_text():
    """The library's partition of a text's words needs two of them: one alone was a traceback."""
    explanation = perturbation.shap_text(linear_text_model, "superb", evaluations=100)
    assert explanation.values.tolist() == [linear_text_model(["superb"])[0] - linear_text_model([""])[0]]
    assert explanation.model_calls == 2
