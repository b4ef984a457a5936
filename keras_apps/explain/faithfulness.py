"""Is an explanation faithful? Its deletion and insertion curves (Petsiuk et al., 2018) and their AOPC
(Samek et al., 2017).

Features are removed (deletion) or revealed into an empty input (insertion) most important first, in equal
steps; the model's score of the class it first predicted is read after each step. A faithful ranking makes
the score fall fast on deletion and rise fast on insertion. AOPC, the area over the perturbation curve, is the
mean drop from the intact score over the steps (deletion), or the mean rise above the empty input's score
(insertion): larger is more faithful for both. A random ranking is the floor any method must clear.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curves:
    """The score after 0, 1, ... `steps` steps of deletion and of insertion."""

    deletion: np.ndarray
    insertion: np.ndarray

    @property
    def deletion_aopc(self):
        return float(np.mean(self.deletion[0] - self.deletion))

    @property
    def insertion_aopc(self):
        return float(np.mean(self.insertion - self.insertion[0]))


def ranking(values, rng):
    """Feature indices, the largest value first; ties (a superpixel's pixels, say) in random order."""
    values = np.asarray(values, np.float64).ravel()
    return np.lexsort((rng.random(len(values)), -values))


def perturbation_curves(order, render, score, steps=20):
    """Deletion and insertion curves for the features ranked by `order` (most important first).

    Args:
        render: keep masks `[k, features]` (True: the feature is present) → a batch of `k` model inputs.
        score: a batch of inputs → the explained class's score for each, `[k]`.
        steps: the features are taken away (or added) in this many equal parts.
    """
    order = np.asarray(order)
    counts = np.round(np.linspace(0, len(order), steps + 1)).astype(int)
    kept = np.ones((steps + 1, len(order)), bool)
    for row, count in enumerate(counts):
        kept[row, order[:count]] = False
    # Revealing the first `count` features into an empty input keeps exactly what deleting them removes.
    scores = np.asarray(score(render(np.concatenate([kept, ~kept]))), np.float64)
    return Curves(deletion=scores[: steps + 1], insertion=scores[steps + 1:])


def rank_agreement(first, second):
    """Spearman's rank correlation of two attributions of the same features (ties share their mean rank)."""
    from scipy.stats import spearmanr

    return float(spearmanr(np.ravel(first), np.ravel(second)).statistic)
