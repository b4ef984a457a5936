import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.models import parts
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference import models, objectives

TINY = GPTConfig(vocabulary_size=12, context_length=8, num_layers=1, num_heads=2, hidden_dim=16, dropout=0.0)


def _gpt(seed=0):
    keras.utils.set_random_seed(seed)
    return build_gpt(TINY)


def test_the_reward_is_read_at_the_last_token_and_padding_changes_nothing():
    reward_model = models.build_reward_model(_gpt())
    ids = np.array([[3, 4, 5, 0, 0], [3, 4, 5, 6, 7]], np.int32)
    scores = reward_model.predict(ids, verbose=0)
    assert scores.shape == (2,)
    assert scores[0] == pytest.approx(float(reward_model(ids[:1, :3])[0]), abs=1e-5)
    assert scores[0] != pytest.approx(scores[1], abs=1e-4)  # the last token differs


def test_the_reward_model_shares_the_gpts_weights():
    gpt = _gpt()
    reward_model = models.build_reward_model(gpt)
    ids = np.array([[3, 4, 5]], np.int32)
    before = float(reward_model(ids)[0])
    block = gpt.get_layer("decoder_0")
    block.set_weights([w + 0.5 for w in block.get_weights()])
    assert float(reward_model(ids)[0]) != pytest.approx(before, abs=1e-4)


def test_response_log_probability_sums_the_gpts_log_probabilities_of_the_response():
    gpt = _gpt()
    ids = np.array([[2, 5, 7, 9]], np.int32)
    mask = np.array([[0, 0, 1, 1]], np.float32)  # a two-token prompt, a two-token response
    log_probs = tf.nn.log_softmax(gpt(ids)).numpy()[0]
    expected = log_probs[1, 7] + log_probs[2, 9]
    got = models.ResponseLogProbability()(gpt(ids), ids, mask)
    assert float(got[0]) == pytest.approx(expected, rel=1e-5)


def _rated_texts(count, seed):
    """Texts of four tokens rated 1, 5 or 9 by their last token (9, 10 or 11), the rest random."""
    rng = np.random.default_rng(seed)
    last = rng.integers(9, 12, size=count)
    texts = np.concatenate([rng.integers(1, 9, size=(count, 3)), last[:, None]], axis=1).astype(np.int32)
    return texts, (4 * (last - 9) + 1).astype(np.float32)


def test_bradley_terry_on_rated_batches_learns_to_order_tiny_texts():
    reward_model = models.build_reward_model(_gpt())
    reward_model.compile(optimizer=keras.optimizers.Adam(1e-2), **models.reward_objective())
    texts, ratings = _rated_texts(96, seed=0)
    reward_model.fit(texts, ratings, batch_size=16, epochs=20, verbose=0)
    held_out, held_out_ratings = _rated_texts(32, seed=1)
    rewards = reward_model.predict(held_out, verbose=0)
    higher = held_out_ratings[:, None] > held_out_ratings[None, :]
    assert np.all((rewards[:, None] > rewards[None, :])[higher])  # every differently rated pair in order
    figures = reward_model.evaluate(held_out, held_out_ratings, batch_size=32, verbose=0, return_dict=True)
    assert figures["pairwise_accuracy"] == 1.0
    assert figures["loss"] == pytest.approx(float(objectives.rated_batch_bradley_terry_loss(
        held_out_ratings, rewards)), rel=1e-4)


def _dpo_log_ratio(beta, steps=300, labels=np.ones(4)):
    """Trains a tiny policy by DPO on one prompt's two one-token responses a and b, a preferred in three pairs
    of four, and returns d = log π(a)/π_ref(a) − log π(b)/π_ref(b). DPO's optimum is d = log(3)/β."""
    policy = _gpt()
    reference = models.ResponseLogProbability()
    prompt, a, b = 4, 7, 8
    chosen = np.array([[prompt, a]] * 3 + [[prompt, b]], np.int32)
    rejected = np.array([[prompt, b]] * 3 + [[prompt, a]], np.int32)
    mask = np.array([[0, 1]] * 4, np.float32)
    inputs = {"chosen": chosen, "rejected": rejected, "chosen_mask": mask, "rejected_mask": mask,
              "reference_chosen": reference(policy(chosen), chosen, mask).numpy(),
              "reference_rejected": reference(policy(rejected), rejected, mask).numpy()}
    trainer = models.dpo_trainer(policy, beta)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-2), **models.dpo_objective())
    assert trainer.predict(inputs, verbose=0) == pytest.approx(np.zeros(4), abs=1e-5)  # π = π_ref at the start
    repeated = {name: np.concatenate([values] * steps) for name, values in inputs.items()}  # `steps` steps, one epoch
    trainer.fit(repeated, np.tile(labels, steps), batch_size=4, shuffle=False, verbose=0)
    return float(trainer.predict(inputs, verbose=0)[0]) / beta


def test_dpo_reaches_its_closed_form_optimum():
    assert _dpo_log_ratio(beta=0.5) == pytest.approx(math.log(3.0) / 0.5, rel=0.1)


def test_with_the_reward_s_probabilities_as_labels_dpo_s_optimum_is_the_reward_difference_over_beta():
    # r(a) − r(b) = 1.5: the label of each pair is σ(r_chosen − r_rejected) (`dpo.preference_labels`), σ(1.5) for
    # the three that choose a, σ(−1.5) for the one that chooses b. The optimum: β · d = 1.5.
    labels = 1 / (1 + np.exp(-np.array([1.5, 1.5, 1.5, -1.5])))
    assert _dpo_log_ratio(beta=0.5, labels=labels) == pytest.approx(1.5 / 0.5, rel=0.1)


def test_the_preference_accuracy_counts_logits_above_zero_whatever_the_labels():
    accuracy = models.PreferenceAccuracy()
    accuracy.update_state(np.array([1.0, 0.7, 0.9, 0.6, 1.0]), np.array([2.0, 0.1, -0.5, -3.0, 0.0]))
    assert float(accuracy.result()) == pytest.approx(0.4)  # a tie is no preference


def test_a_very_large_beta_leaves_the_dpo_policy_at_the_reference():
    assert abs(_dpo_log_ratio(beta=1000.0)) < 0.05


def test_dpo_reads_the_policy_with_dropout_off_while_it_trains():
    keras.utils.set_random_seed(0)
    policy = build_gpt(dataclasses.replace(TINY, dropout=0.5))
    reference = models.ResponseLogProbability()
    chosen, rejected = np.array([[4, 7, 2, 3]], np.int32), np.array([[4, 8, 5, 1]], np.int32)
    mask = np.array([[0, 1, 1, 1]], np.float32)
    inputs = {"chosen": chosen, "rejected": rejected, "chosen_mask": mask, "rejected_mask": mask,
              "reference_chosen": reference(policy(chosen), chosen, mask).numpy(),
              "reference_rejected": reference(policy(rejected), rejected, mask).numpy()}
    logits = models.dpo_trainer(policy, beta=1.0)(inputs, training=True)  # as `fit` calls it
    assert float(logits[0]) == pytest.approx(0.0, abs=1e-5)  # π = π_ref: no dropped units in either


def test_dpo_refuses_a_beta_that_is_not_positive():
    with pytest.raises(ValueError, match="beta must be positive"):
        models.DPOLogit(0.0)


def test_gpt_1_s_classifier_starts_from_the_gpt_s_weights_or_from_fresh_ones():
    keras.utils.set_random_seed(0)
    gpt = build_gpt(TINY)
    tuned, scratch = models.build_classifier(gpt), models.build_classifier(gpt, from_scratch=True)
    tokens = np.array([[1, 3, 4, models.PAD_ID]], np.int32)
    assert tuned(tokens).shape == (1, 1) and scratch(tokens).shape == (1, 1)
    embedding = gpt.get_layer(parts.TOKEN_EMBEDDING).embeddings.numpy()
    shared = [weight for weight in tuned.weights if weight.shape == embedding.shape]
    np.testing.assert_array_equal(shared[0].numpy(), embedding)  # the GPT's own weights, not copies
    fresh = [weight for weight in scratch.weights if weight.shape == embedding.shape]
    assert not np.allclose(fresh[0].numpy(), embedding) and len(scratch.weights) == len(tuned.weights)
