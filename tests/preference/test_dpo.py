import keras
import numpy as np
import pytest

from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference import dpo
from keras_apps.preference.rewards import LearnedReward, without_line_breaks
from keras_apps.preference.evaluation import Samples, log_probabilities
from keras_apps.preference.models import build_reward_model
from keras_apps.text.wordpieces import NEWLINE_ID

TINY = GPTConfig(vocabulary_size=12, context_length=16, num_layers=1, num_heads=2, hidden_dim=8, dropout=0.0)


def _scores(reward_model, rows):
    """The reward model's score of each row (`[NL]`, a one-token prompt, a response) as `LearnedReward` reads
    it: without the response's `[NL]`."""
    return reward_model.predict(np.concatenate([rows[:, :2], without_line_breaks(rows[:, 2:])], axis=1), verbose=0)


def _pairs():
    keras.utils.set_random_seed(0)
    reference, reward_model = build_gpt(TINY), build_reward_model(build_gpt(TINY))
    prompts = [np.array([NEWLINE_ID, 3 + index % 4], np.int32) for index in range(12)]
    return reference, reward_model, dpo.preference_pairs(reference, LearnedReward(reward_model), prompts, 4, seed=1)


def test_each_pair_prefers_the_response_the_reward_model_scores_higher():
    reference, reward_model, pairs = _pairs()
    assert 0 < len(pairs["margin"]) <= 12 and np.all(pairs["margin"] > 0)
    chosen, rejected = _scores(reward_model, pairs["chosen"]), _scores(reward_model, pairs["rejected"])
    np.testing.assert_allclose(chosen - rejected, pairs["margin"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(pairs["chosen"][:, :2], pairs["rejected"][:, :2])  # one prompt, two responses
    assert pairs["chosen_mask"][:, :2].sum() == 0 and np.all(pairs["chosen_mask"].sum(axis=1) >= 1)


def test_the_reference_log_probabilities_are_the_reference_models():
    reference, _, pairs = _pairs()
    for side in dpo.SIDES:
        samples = Samples([row[:2] for row in pairs[side]], pairs[side][:, 2:])
        np.testing.assert_allclose(pairs[f"reference_{side}"], log_probabilities(reference, samples), rtol=1e-5)
    assert not np.allclose(pairs["reference_chosen"], pairs["reference_rejected"])


def test_pairs_are_saved_and_read_back_whole(tmp_path):
    _, _, pairs = _pairs()
    dpo.save_pairs(pairs, tmp_path / "pairs.npz")
    loaded = dpo.load_pairs(tmp_path / "pairs.npz")
    assert loaded.keys() == pairs.keys()
    assert all(np.array_equal(loaded[name], pairs[name]) for name in pairs)


def test_a_failed_save_leaves_the_pairs_saved_before(tmp_path, monkeypatch):
    pairs = {"margin": np.array([1.0, 2.0], np.float32), "chosen": np.array([[1, 2], [3, 4]], np.int32)}
    path = tmp_path / "pairs.npz"
    dpo.save_pairs(pairs, path)

    def interrupted(handle, **arrays):
        handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(dpo.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dpo.save_pairs({"margin": np.zeros(1, np.float32)}, path)
    monkeypatch.undo()
    loaded = dpo.load_pairs(path)
    assert loaded.keys() == pairs.keys() and np.array_equal(loaded["chosen"], pairs["chosen"])


def test_a_pair_needs_two_candidates():
    with pytest.raises(ValueError, match="at least 2 candidates, got 1"):
        dpo.preference_pairs(None, None, [np.array([NEWLINE_ID, 3], np.int32)], 4, candidates=1)


def test_a_tenth_of_the_pairs_is_held_out():
    _, _, pairs = _pairs()
    train, validation = dpo.pair_datasets(pairs, batch_size=2, seed=0)
    held_out = sum(len(labels) for _, labels in validation)
    assert held_out == max(1, round(0.1 * len(pairs["margin"])))
    inputs, labels = next(iter(train))
    assert set(inputs) == {"chosen", "rejected", "chosen_mask", "rejected_mask", "reference_chosen",
                           "reference_rejected"} and labels.numpy().tolist() == [1.0, 1.0]


def test_the_held_out_pairs_are_never_trained_on_and_at_least_one_is_held_out():
    count = 20
    pairs = {"margin": np.ones(count, np.float32), "chosen": np.arange(count, dtype=np.int32)[:, None]}
    train, validation = dpo.pair_datasets(pairs, batch_size=1, seed=0)
    trained = [int(inputs["chosen"][0, 0]) for inputs, _ in train]
    held_out = [int(inputs["chosen"][0, 0]) for inputs, _ in validation]
    assert len(held_out) == 2 and sorted(trained + held_out) == list(range(count))
    assert dpo.pair_split(4) == (3, 1)  # a tenth of 4 rounds to 0: one pair is still held out


def test_labels_are_certain_or_the_reward_s_bradley_terry_probability():
    pairs = {"margin": np.array([0.0, 1.0, 3.0], np.float32)}
    assert dpo.preference_labels(pairs, "hard").tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(dpo.preference_labels(pairs, "reward"), [0.5, 0.7310586, 0.9525741], rtol=1e-6)
    with pytest.raises(ValueError, match="labels must be one of"):
        dpo.preference_labels(pairs, "soft")
    _, _, real = _pairs()
    _, validation = dpo.pair_datasets(real, batch_size=64, labels="reward", seed=0)
    _, labels = next(iter(validation))
    assert np.all((labels.numpy() > 0.5) & (labels.numpy() < 1.0))


def test_prompts_whose_candidates_the_reward_scores_alike_make_no_pair():
    keras.utils.set_random_seed(0)
    prompts = [np.array([NEWLINE_ID, 3 + index % 4], np.int32) for index in range(6)]

    def reward(samples):  # every response to the prompts of token 3 scores 0; the others differ by row
        return np.array([0.0 if prompt[1] == 3 else float(row) for row, prompt in enumerate(samples.prompts)])

    pairs = dpo.preference_pairs(build_gpt(TINY), reward, prompts, 4, seed=1)
    assert pairs["chosen"][:, 1].tolist() == [4, 5, 6, 4] and pairs["rejected"][:, 1].tolist() == [4, 5, 6, 4]
    np.testing.assert_array_equal(pairs["margin"], 1.0)  # the second candidate (row 2k + 1) over the first


def test_of_several_candidates_the_highest_scored_is_chosen_and_the_lowest_rejected():
    keras.utils.set_random_seed(0)
    reference, reward_model = build_gpt(TINY), build_reward_model(build_gpt(TINY))
    prompts = [np.array([NEWLINE_ID, 3 + index % 4], np.int32) for index in range(6)]
    pairs = dpo.preference_pairs(reference, LearnedReward(reward_model), prompts, 4, candidates=4, seed=1)
    samples = dpo.sample_responses(reference, [prompt for prompt in prompts for _ in range(4)], 4, seed=1)
    scores = _scores(reward_model, samples.sequences()).reshape(-1, 4)
    np.testing.assert_allclose(pairs["margin"], (scores.max(axis=1) - scores.min(axis=1))[:len(pairs["margin"])],
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_scores(reward_model, pairs["chosen"]), scores.max(axis=1), rtol=1e-4,
                               atol=1e-5)
