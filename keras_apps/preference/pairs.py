"""Preference pairs from human judgments: two reviews, the one its writer rated higher preferred.

IMDB's reviews carry their writers' star ratings (1-4 and 7-10 of 10). Two reviews with different ratings
make a pair in which the higher-rated one is `chosen` and the other `rejected`, as a person comparing the
two would say; the rating gap tells how clear the preference is (a 1 against a 10 is clearer than a 7
against an 8), which is how the reward model's pairwise accuracy is read.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pairs:
    """Indices into a list of texts: `chosen[i]` is preferred to `rejected[i]`, by `gaps[i]` rating points."""

    chosen: np.ndarray
    rejected: np.ndarray
    gaps: np.ndarray

    def __len__(self):
        return len(self.chosen)

    def at_least(self, gap):
        """The pairs whose ratings are `gap` or more points apart."""
        return self._where(self.gaps >= gap)

    def at_most(self, gap):
        """The pairs whose ratings are `gap` or fewer points apart."""
        return self._where(self.gaps <= gap)

    def _where(self, keep):
        return Pairs(self.chosen[keep], self.rejected[keep], self.gaps[keep])


def rating_pairs(ratings, count, *, seed=0):
    """`count` pairs of different, differently rated items drawn at random (`ratings`: one per item), each
    oriented so that the higher rating is chosen. Items are drawn uniformly, so each gap occurs as often as the
    ratings make it."""
    ratings = np.asarray(ratings)
    if len(np.unique(ratings)) < 2:
        raise ValueError("preference pairs need items with at least two different ratings")
    rng = np.random.default_rng(seed)
    first, second = np.empty(0, np.int64), np.empty(0, np.int64)
    while len(first) < count:  # draw in bulk and keep the pairs whose ratings differ
        a, b = rng.integers(len(ratings), size=(2, 2 * (count - len(first))))
        differ = ratings[a] != ratings[b]
        first, second = np.concatenate([first, a[differ]]), np.concatenate([second, b[differ]])
    first, second = first[:count], second[:count]
    higher = ratings[first] > ratings[second]
    chosen, rejected = np.where(higher, first, second), np.where(higher, second, first)
    return Pairs(chosen, rejected, ratings[chosen] - ratings[rejected])


def pairwise_accuracy(scores, pairs):
    """The fraction of `pairs` whose chosen item scores above its rejected one (ties count half)."""
    scores = np.asarray(scores, np.float64)
    difference = scores[pairs.chosen] - scores[pairs.rejected]
    return float(np.mean((difference > 0) + 0.5 * (difference == 0)))


def agreement(rewards, ratings, count, *, clear_gap, seed=0):
    """`(figures, pairs)`: the pairwise accuracy of `rewards` on `count` random pairs of the rated items, and on
    those of them rated `clear_gap` or more points apart, with both counts."""
    pairs = rating_pairs(ratings, count, seed=seed)
    clear = pairs.at_least(clear_gap)
    return {"pairwise_accuracy": pairwise_accuracy(rewards, pairs), "pairs": len(pairs),
            "pairwise_accuracy_clear": pairwise_accuracy(rewards, clear), "clear_pairs": len(clear)}, pairs
