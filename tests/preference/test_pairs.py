import numpy as np
import pytest

from keras_apps.preference.pairs import Pairs, agreement, pairwise_accuracy, rating_pairs


def test_rating_pairs_prefer_the_higher_rating_and_never_pair_equal_ones():
    ratings = np.array([1, 1, 4, 7, 10, 10, 2, 8])
    pairs = rating_pairs(ratings, 500, seed=1)
    assert len(pairs) == 500
    assert np.all(ratings[pairs.chosen] > ratings[pairs.rejected])
    np.testing.assert_array_equal(pairs.gaps, ratings[pairs.chosen] - ratings[pairs.rejected])
    assert len(set(zip(pairs.chosen.tolist(), pairs.rejected.tolist()))) > 20  # drawn, not one pair repeated
    assert set(pairs.chosen.tolist()) | set(pairs.rejected.tolist()) == set(range(len(ratings)))  # every item drawn
    again = rating_pairs(ratings, 500, seed=1)
    np.testing.assert_array_equal(again.chosen, pairs.chosen)


def test_rating_pairs_need_two_ratings():
    with pytest.raises(ValueError, match="two different ratings"):
        rating_pairs([3, 3, 3], 4)


def test_at_least_keeps_the_clear_preferences():
    pairs = Pairs(np.array([0, 1, 2]), np.array([3, 4, 5]), np.array([1, 4, 9]))
    clear = pairs.at_least(4)
    assert clear.chosen.tolist() == [1, 2] and clear.gaps.tolist() == [4, 9]
    assert pairs.at_least(4).at_most(4).rejected.tolist() == [4]


def test_pairwise_accuracy_counts_ties_as_half():
    pairs = Pairs(np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([1, 1, 1]))
    assert pairwise_accuracy([3.0, 2.0, 2.0], pairs) == pytest.approx((1 + 0.5 + 0) / 3)


def test_pairwise_accuracy_is_the_share_of_pairs_whose_chosen_scores_higher():
    pairs = Pairs(np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([1, 2, 1]))
    assert pairwise_accuracy([3.0, 2.0, 1.0], pairs) == 1.0
    assert pairwise_accuracy([1.0, 2.0, 3.0], pairs) == 0.0


def test_agreement_counts_all_pairs_and_the_clear_ones():
    ratings = np.array([1, 2, 9, 10])
    rewards = np.array([0.0, 3.0, 2.0, 5.0])  # wrong only where 2 is rated below 9
    figures, pairs = agreement(rewards, ratings, 400, clear_gap=4, seed=0)
    assert figures["pairs"] == len(pairs) == 400 and figures["clear_pairs"] == len(pairs.at_least(4))
    assert figures["pairwise_accuracy_clear"] == pytest.approx(pairwise_accuracy(rewards, pairs.at_least(4)))
    assert figures["pairwise_accuracy"] == pytest.approx(pairwise_accuracy(rewards, pairs))
    assert 0 < figures["pairwise_accuracy_clear"] < 1


def test_a_clear_pair_is_one_rated_the_clear_gap_or_more_apart():
    ratings = np.array([1, 2, 5, 6])  # gaps of 1, 3, 4 and 5
    figures, pairs = agreement(np.arange(4.0), ratings, 200, clear_gap=4, seed=0)
    assert np.any(pairs.gaps == 4) and np.any(pairs.gaps < 4)
    assert figures["clear_pairs"] == int(np.sum(pairs.gaps >= 4))
