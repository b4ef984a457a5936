"""The explanation benchmark's harness on a toy model whose faithful ranking is known: the table and the plot
come from what it measures."""

import numpy as np
import pytest
from PIL import Image

from bench import explain, results
from keras_apps.explain.perturbation import Explanation

WEIGHTS = np.linspace(1.0, 0.0, 10)


class ToyInputs:
    """Ten features; the score is the share of the weights still present. IG knows the weights, LIME half of
    them, SHAP gets them backwards."""

    inputs = [np.ones(10)] * 4

    def explain(self, example, method):
        values = {"ig": WEIGHTS, "lime": np.where(np.arange(10) < 5, WEIGHTS, 0.0), "shap": -WEIGHTS}[method]
        return 0, Explanation(values, method, 0.5, 100), values

    def render(self, example):
        return lambda kept: example[None] * kept

    def scorer(self, predicted):
        return lambda batch: batch @ WEIGHTS / WEIGHTS.sum()

    def features(self, example):
        return example.size


def test_the_faithful_ranking_wins_and_random_falls_between():
    found = explain.faithfulness(ToyInputs(), 4)
    deletion = {method: row["deletion_aopc"] for method, row in found["methods"].items()}
    assert deletion["ig"] > deletion["lime"] > deletion["random"] > deletion["shap"]
    assert found["methods"]["ig"]["deletion_curve"][0] == 1.0 and len(found["methods"]["ig"]["deletion_curve"]) == 21
    assert found["rank_agreement"]["ig-shap"] == pytest.approx(-1.0)
    assert found["methods"]["lime"]["seconds"] == 0.5 and found["methods"]["lime"]["model_calls"] == 100
    assert "seconds" not in found["methods"]["random"]


def test_the_table_and_the_plot(tmp_path):
    row = {"command": "python -m tasks.mnist --model convnet", "task": "mnist", "model": "convnet",
           "model_test_accuracy": 0.99, "examples": 4, **explain.faithfulness(ToyInputs(), 4), "machine": "a machine"}
    table = results.table({"explain-mnist-convnet": row})
    assert "| `python -m tasks.mnist --model convnet` | convnet (99.00 %) | 4 | " in table
    assert "| 0.50 (0.5) / 0.50 (0.5) / 0.50 (0.5) | 0.94 / -1.00 / -0.94 | a machine" in table
    assert table.count("python -m tasks.mnist --model convnet") == 1  # not a classifier's row too
    explain.plot_curves({"mnist-convnet": row}, tmp_path / "curves.png")
    assert Image.open(tmp_path / "curves.png").format == "PNG"
