import math

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.preference import objectives


def test_token_log_probabilities_read_the_log_softmax_at_each_token():
    logits = tf.constant([[[0.0, math.log(3.0)], [math.log(4.0), 0.0]]])  # P = (1/4, 3/4), then (4/5, 1/5)
    got = objectives.token_log_probabilities(logits, tf.constant([[1, 1]]))
    np.testing.assert_allclose(got.numpy(), [[math.log(3 / 4), math.log(1 / 5)]], rtol=1e-6)


def test_sequence_log_probability_sums_only_response_tokens():
    log_probs = tf.constant([[-1.0, -2.0, -3.0], [-0.5, -0.5, -0.5]])
    got = objectives.sequence_log_probability(log_probs, tf.constant([[0, 1, 1], [1, 0, 0]]))
    np.testing.assert_allclose(got.numpy(), [-5.0, -0.5])


def test_bradley_terry_loss_by_hand():
    # −log σ(2 − 1) and −log σ(0 − 1), averaged.
    expected = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(1.0))) / 2
    got = objectives.bradley_terry_loss(tf.constant([2.0, 0.0]), tf.constant([1.0, 1.0]))
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_bradley_terry_loss_is_small_when_the_chosen_is_rewarded_more():
    chosen, rejected = tf.constant([3.0, 2.0]), tf.constant([0.0, 1.0])
    right, wrong = objectives.bradley_terry_loss(chosen, rejected), objectives.bradley_terry_loss(rejected, chosen)
    assert float(right) < math.log(2.0) < float(wrong)


def test_bradley_terry_on_a_rated_batch_compares_every_differently_rated_pair():
    ratings, rewards = tf.constant([3.0, 1.0, 3.0]), tf.constant([1.0, 0.0, 2.0])
    # Pairs (0 over 1) and (2 over 1); 0 and 2 are rated alike and not compared.
    expected = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(-2.0))) / 2
    assert float(objectives.rated_batch_bradley_terry_loss(ratings, rewards)) == pytest.approx(expected, rel=1e-6)
    assert float(objectives.rated_batch_pairwise_accuracy(ratings, rewards)) == 1.0
    assert float(objectives.rated_batch_pairwise_accuracy(tf.constant([1.0, 2.0, 2.0]),
                                                          tf.constant([1.0, 0.0, 1.0]))) == pytest.approx(0.25)


def test_dpo_loss_by_hand():
    # β = 0.1; the policy raised the chosen response by 1 nat over the reference and lowered the rejected by 1:
    # logit 0.1 · (1 − (−1)) = 0.2, loss −log σ(0.2) = log(1 + e^−0.2).
    got = objectives.dpo_loss(tf.constant([-10.0]), tf.constant([-12.0]), tf.constant([-11.0]),
                              tf.constant([-11.0]), beta=0.1)
    assert float(got) == pytest.approx(math.log1p(math.exp(-0.2)), rel=1e-6)


def test_dpo_loss_at_the_reference_is_log_2_whatever_beta():
    same = tf.constant([-3.0, -7.0])
    for beta in (0.01, 1.0, 100.0):
        assert float(objectives.dpo_loss(same, same - 1, same, same - 1, beta)) == pytest.approx(math.log(2.0))


def test_kl_penalized_rewards_add_the_score_at_the_last_response_token():
    log_probs = tf.constant([[-1.0, -1.0, -1.0, 0.0]])
    reference = tf.constant([[-1.5, -0.5, -1.0, 0.0]])
    mask = tf.constant([[0, 1, 1, 0]])  # a prompt token, two response tokens, padding
    got = objectives.kl_penalized_rewards(tf.constant([2.0]), log_probs, reference, mask, kl_coefficient=0.1)
    np.testing.assert_allclose(got.numpy(), [[0.0, 0.05, 2.0, 0.0]], atol=1e-6)


def test_generalized_advantages_by_hand():
    rewards = tf.constant([[0.0, 0.0, 1.0]])
    values = tf.constant([[0.5, 0.6, 0.7]])
    advantages, returns = objectives.generalized_advantages(rewards, values, tf.ones([1, 3]))  # γ = 1, λ = 0.95
    # δ = (0.1, 0.1, 0.3); A_2 = 0.3, A_1 = 0.1 + 0.95 · 0.3, A_0 = 0.1 + 0.95 · A_1.
    a1 = 0.1 + 0.95 * 0.3
    np.testing.assert_allclose(advantages.numpy(), [[0.1 + 0.95 * a1, a1, 0.3]], rtol=1e-5)
    np.testing.assert_allclose(returns.numpy(), advantages.numpy() + values.numpy(), rtol=1e-6)


def test_generalized_advantages_end_each_response_at_its_mask():
    rewards = tf.constant([[0.0, 1.0, 5.0]])  # the 5 is padding after the response's end
    values = tf.constant([[0.2, 0.4, 9.0]])
    advantages, _ = objectives.generalized_advantages(rewards, values, tf.constant([[1, 1, 0]]), gamma=0.9, lam=0.5)
    # δ_1 = 1 − 0.4 (nothing after the end); δ_0 = 0 + 0.9 · 0.4 − 0.2; A_0 = δ_0 + 0.45 · δ_1.
    np.testing.assert_allclose(advantages.numpy(), [[0.16 + 0.45 * 0.6, 0.6, 0.0]], rtol=1e-5)


def test_ppo_policy_loss_clips_the_ratio_by_hand():
    old = tf.zeros([1, 3])
    new = tf.math.log(tf.constant([[1.5, 0.5, 1.1]]))  # ratios 1.5, 0.5, 1.1
    advantages = tf.constant([[1.0, -1.0, 2.0]])
    # min(ρA, clip(ρ)A): min(1.5, 1.2) = 1.2; min(−0.5, −0.8) = −0.8; min(2.2, 2.2) = 2.2.
    got = objectives.ppo_policy_loss(new, old, advantages, tf.ones([1, 3]), clip=0.2)
    assert float(got) == pytest.approx(-(1.2 - 0.8 + 2.2) / 3, rel=1e-5)


def test_ppo_value_loss_takes_the_worse_of_clipped_and_unclipped():
    # V moved from 0 to 1, clipped to 0.2; return 0.5: max((1 − 0.5)², (0.2 − 0.5)²) = 0.25, halved.
    got = objectives.ppo_value_loss(tf.constant([[1.0]]), tf.constant([[0.0]]), tf.constant([[0.5]]),
                                    tf.ones([1, 1]), clip=0.2)
    assert float(got) == pytest.approx(0.125)


def test_whiten_gives_mean_0_variance_1_on_the_mask():
    values = tf.constant([[1.0, 2.0, 3.0, 100.0]])
    mask = tf.constant([[1, 1, 1, 0]])
    got = objectives.whiten(values, mask).numpy()[0]
    np.testing.assert_allclose(got[:3], [-math.sqrt(1.5), 0.0, math.sqrt(1.5)], rtol=1e-4)
    assert got[3] == 0.0


def test_sequence_kl_estimates_a_known_kl_from_samples():
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.2, 0.6])
    exact = float(np.sum(p * np.log(p / q)))
    # Sequences of two independent draws from p: their KL is twice the one-draw KL.
    draws = np.random.default_rng(0).choice(3, size=(20_000, 2), p=p)
    got = objectives.sequence_kl(tf.constant(np.log(p)[draws], tf.float32), tf.constant(np.log(q)[draws], tf.float32),
                                 tf.ones([20_000, 2]))
    assert float(got) == pytest.approx(2 * exact, abs=0.02)


def test_adaptive_kl_controller_raises_beta_above_the_target_and_lowers_it_below():
    controller = objectives.AdaptiveKLController(0.2, target=6.0, horizon=10_000)
    assert controller.update(12.0, rollouts=1000) == pytest.approx(0.2 * (1 + 0.2 * 0.1))  # error clipped to 0.2
    before = controller.value
    assert controller.update(3.0, rollouts=1000) == pytest.approx(before * (1 - 0.2 * 0.1))
    for initial, target, horizon in ((0.0, 6.0, 10), (0.2, 0.0, 10), (0.2, 6.0, 0)):
        with pytest.raises(ValueError, match="must be positive"):
            objectives.AdaptiveKLController(initial, target=target, horizon=horizon)


def test_entropy_of_uniform_logits_is_log_vocabulary():
    got = objectives.entropy(tf.zeros([2, 3, 8]), tf.ones([2, 3]))
    assert float(got) == pytest.approx(math.log(8.0), rel=1e-6)
