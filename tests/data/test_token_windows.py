"""Next-token windows: targets are inputs shifted by one, random windows are fresh each pass, evaluation
windows are fixed."""

import numpy as np
import pytest

from keras_apps.data.token_windows import check_length, evaluation_windows, random_windows
from keras_apps.errors import UserError

TOKENS = np.arange(500, dtype=np.int32)  # each id is its own position: windows show where they came from


def test_random_windows_are_contiguous_and_shifted_by_one():
    dataset = random_windows(TOKENS, context_length=8, batch_size=4, steps=5, seed=1)
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == 5 == int(dataset.cardinality())
    assert not dataset.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    for inputs, targets in batches:
        assert inputs.shape == targets.shape == (4, 8)
        np.testing.assert_array_equal(targets, inputs + 1)
        np.testing.assert_array_equal(np.diff(inputs, axis=1), 1)
        assert inputs.min() >= 0 and targets.max() < len(TOKENS)


def test_each_pass_draws_new_windows_and_a_seed_repeats_them():
    first_pass = [x for x, _ in random_windows(TOKENS, 8, 4, 3, seed=1).as_numpy_iterator()]
    dataset = random_windows(TOKENS, 8, 4, 3, seed=1)
    again = [x for x, _ in dataset.as_numpy_iterator()]
    second_pass = [x for x, _ in dataset.as_numpy_iterator()]
    np.testing.assert_array_equal(first_pass, again)
    assert not np.array_equal(again, second_pass)


def test_random_windows_stay_inside_the_text_and_reach_its_last_offset():
    whole = np.arange(9, dtype=np.int32)  # exactly one window of context 8: every window is the whole text
    for inputs, targets in random_windows(whole, 8, batch_size=4, steps=20, seed=1).as_numpy_iterator():
        np.testing.assert_array_equal(inputs, np.tile(whole[:-1], (4, 1)))
        np.testing.assert_array_equal(targets, np.tile(whole[1:], (4, 1)))
    short = np.arange(12, dtype=np.int32)  # offsets 0 to 3
    starts = np.concatenate([x[:, 0] for x, _ in random_windows(short, 8, 4, steps=50, seed=1).as_numpy_iterator()])
    assert set(starts) == {0, 1, 2, 3}


def test_evaluation_windows_predict_every_token_once():
    batches = list(evaluation_windows(TOKENS, context_length=10, batch_size=8).as_numpy_iterator())
    targets = np.concatenate([y for _, y in batches]).ravel()
    np.testing.assert_array_equal(targets, np.arange(1, 1 + len(targets)))
    assert len(targets) == (len(TOKENS) - 1) // 10 * 10


def test_an_evaluation_sample_is_the_same_every_time():
    dataset = evaluation_windows(TOKENS, 10, batch_size=4, max_batches=3, seed=2)
    assert not dataset.options().autotune.enabled
    first = [x for x, _ in dataset.as_numpy_iterator()]
    assert len(first) == 3 and np.array_equal(first, [x for x, _ in dataset.as_numpy_iterator()])
    starts = np.concatenate(first)[:, 0]
    assert len(set(starts)) == 12 and all(start % 10 == 0 for start in starts)


def _sample_starts(**options):
    dataset = evaluation_windows(TOKENS, 10, batch_size=4, **options)
    return np.concatenate([x for x, _ in dataset.as_numpy_iterator()])[:, 0]


def test_the_seed_decides_the_evaluation_sample_and_a_sample_of_every_window_is_all_of_them():
    np.testing.assert_array_equal(_sample_starts(max_batches=3, seed=2), _sample_starts(max_batches=3, seed=2))
    assert not np.array_equal(_sample_starts(max_batches=3, seed=2), _sample_starts(max_batches=3, seed=3))
    # 13 batches of 4 hold more than the 49 windows there are: all of them, in order.
    np.testing.assert_array_equal(_sample_starts(max_batches=13), np.arange(49) * 10)


def test_a_text_shorter_than_one_window_is_refused():
    with pytest.raises(UserError, match="fewer than one window of 65"):
        random_windows(TOKENS[:64], 64, 4, 1)
    with pytest.raises(UserError, match="validation text has 20 tokens"):
        evaluation_windows(TOKENS[:20], 64, 4)
    check_length(None, 64, "training")  # a count not known yet is checked when the tokens are


def test_a_text_of_whole_windows_has_its_last_token_predicted():
    """A text of `k * context_length + 1` tokens holds `k` windows, the last ending on its last token."""
    batches = list(evaluation_windows(TOKENS[:41], context_length=10, batch_size=3).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]).ravel(), TOKENS[1:41])
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]).ravel(), TOKENS[:40])
