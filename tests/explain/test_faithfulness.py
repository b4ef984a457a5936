"""Deletion and insertion curves, on a model whose answer is known."""

import numpy as np
import pytest

from keras_apps.explain.faithfulness import perturbation_curves, rank_agreement, ranking

WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1, 0.0])  # the score is the sum of the present features' weights


def score(kept):
    return kept.astype(float) @ WEIGHTS


def test_the_true_ranking_gives_the_known_curves_and_aopc():
    curves = perturbation_curves(ranking(WEIGHTS, np.random.default_rng(0)), lambda kept: kept, score, steps=5)
    np.testing.assert_allclose(curves.deletion, [1.0, 0.6, 0.3, 0.1, 0.0, 0.0])
    np.testing.assert_allclose(curves.insertion, [0.0, 0.4, 0.7, 0.9, 1.0, 1.0])
    assert curves.deletion_aopc == pytest.approx(np.mean([0, 0.4, 0.7, 0.9, 1, 1]))
    assert curves.insertion_aopc == pytest.approx(np.mean([0, 0.4, 0.7, 0.9, 1, 1]))


def test_the_reversed_ranking_is_the_least_faithful_and_random_between():
    rng = np.random.default_rng(0)
    best = perturbation_curves(ranking(WEIGHTS, rng), lambda kept: kept, score, steps=5)
    worst = perturbation_curves(ranking(-WEIGHTS, rng), lambda kept: kept, score, steps=5)
    random = np.mean([perturbation_curves(rng.permutation(5), lambda kept: kept, score, steps=5).deletion_aopc
                      for _ in range(200)])
    assert worst.deletion_aopc < random < best.deletion_aopc
    assert worst.insertion_aopc < best.insertion_aopc


def test_ties_are_broken_at_random_and_the_rest_kept_in_order():
    orders = {tuple(ranking([1.0, 5.0, 5.0, 0.0], np.random.default_rng(seed))) for seed in range(20)}
    assert orders == {(1, 2, 0, 3), (2, 1, 0, 3)}


def test_rank_agreement_of_same_and_opposite_orderings():
    assert rank_agreement(WEIGHTS, WEIGHTS * 3) == pytest.approx(1.0)
    assert rank_agreement(WEIGHTS, -WEIGHTS) == pytest.approx(-1.0)
