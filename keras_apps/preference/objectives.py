"""The objectives of preference tuning, written as the papers write them, over whole batches of sequences.

A policy π (a GPT), its frozen copy π_ref (the supervised model it starts from), and responses: the tokens
a policy wrote after a prompt, `mask` marking which positions of a `[batch, length]` array are response
tokens (1) and which are prompt or padding (0).

- Bradley–Terry (Christiano et al. 2017; Ouyang et al. 2022): a reward model r is trained on pairs where
  humans preferred `chosen` to `rejected`, with P(chosen ≻ rejected) = σ(r(chosen) − r(rejected)).
- DPO (Rafailov et al. 2023, eq. 7): the same likelihood, with the reward implied by the policy itself,
  r(y) = β · log π(y)/π_ref(y): no reward model and no sampling while training.
- PPO as in Ziegler et al. 2019 and TRL: a per-token reward that is −β_KL · log π/π_ref at every response
  token plus the reward model's score at the last; advantages by GAE (Schulman et al. 2016); the clipped
  surrogate objective and a clipped value loss (Schulman et al. 2017); β_KL adapted towards a target KL.
"""

import tensorflow as tf


def token_log_probabilities(logits, tokens):
    """log π(tokens_t | tokens_<t) of each position: `logits[:, t]` are the model's logits for `tokens[:, t]`
    (a GPT's logits shifted by one, as `models.ResponseLogProbability` arranges)."""
    log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.gather(log_probabilities, tf.cast(tokens, tf.int32), axis=-1, batch_dims=2)


def sequence_log_probability(token_log_probs, mask):
    """Σ_t mask_t · log π(y_t | …) per row: the log-probability of each response."""
    return tf.reduce_sum(token_log_probs * tf.cast(mask, tf.float32), axis=-1)


def bradley_terry_loss(chosen_rewards, rejected_rewards):
    """−log σ(r_chosen − r_rejected), averaged over the pairs."""
    return tf.reduce_mean(tf.nn.softplus(-(chosen_rewards - rejected_rewards)))


def rated_batch_bradley_terry_loss(ratings, rewards):
    """`bradley_terry_loss` over every pair of a batch of rated items whose ratings differ, the higher-rated
    one chosen: one reward per item serves all its comparisons (as InstructGPT trains on all K-choose-2
    comparisons of a prompt at once)."""
    preferred, margins = _rated_pairs(ratings, rewards)
    return tf.reduce_sum(preferred * tf.nn.softplus(-margins)) / tf.maximum(tf.reduce_sum(preferred), 1.0)


def rated_batch_pairwise_accuracy(ratings, rewards):
    """The fraction of a batch's differently rated pairs whose higher-rated item has the higher reward."""
    preferred, margins = _rated_pairs(ratings, rewards)
    correct = tf.cast(margins > 0, tf.float32) + 0.5 * tf.cast(margins == 0, tf.float32)
    return tf.reduce_sum(preferred * correct) / tf.maximum(tf.reduce_sum(preferred), 1.0)


def _rated_pairs(ratings, rewards):
    """`preferred[i, j]` (1 where item i is rated above item j) and `margins[i, j]` = r_i − r_j."""
    ratings, rewards = tf.reshape(ratings, [-1]), tf.reshape(tf.cast(rewards, tf.float32), [-1])
    preferred = tf.cast(ratings[:, None] > ratings[None, :], tf.float32)
    return preferred, rewards[:, None] - rewards[None, :]


def dpo_logits(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
    """β · [(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))], per pair of sequence log-probabilities:
    the logit of P(y_w ≻ y_l) under the reward the policy implies."""
    return beta * ((policy_chosen - reference_chosen) - (policy_rejected - reference_rejected))


def dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
    """−log σ(`dpo_logits`), averaged over the pairs (DPO's eq. 7)."""
    return tf.reduce_mean(tf.nn.softplus(-dpo_logits(policy_chosen, policy_rejected, reference_chosen,
                                                     reference_rejected, beta)))


def kl_penalized_rewards(scores, log_probs, reference_log_probs, mask, kl_coefficient):
    """Per-token rewards `[batch, length]`: −kl_coefficient · (log π − log π_ref) at each response token, and the
    sequence's score added at its last response token (Ziegler et al. 2019, eq. 2; TRL's `compute_rewards`)."""
    mask = tf.cast(mask, tf.float32)
    rewards = -kl_coefficient * (log_probs - reference_log_probs) * mask
    length = tf.shape(mask)[1]
    last = tf.reduce_max(mask * tf.cast(tf.range(1, length + 1), tf.float32), axis=1) - 1  # -1: no response
    at_last = tf.one_hot(tf.cast(last, tf.int32), length, dtype=tf.float32)
    return rewards + at_last * scores[:, None]


def generalized_advantages(rewards, values, mask, *, gamma=1.0, lam=0.95):
    """GAE: `(advantages, returns)`, both `[batch, length]`.

    δ_t = r_t + γ V_{t+1} − V_t and A_t = δ_t + γλ A_{t+1}, computed backwards from each response's end (the
    value after the last response token is 0, the episode being over); returns are A_t + V_t. Positions outside
    `mask` get 0.
    """
    mask = tf.cast(mask, tf.float32)
    rewards, values = rewards * mask, values * mask
    next_values = tf.concat([values[:, 1:], tf.zeros_like(values[:, :1])], axis=1)
    next_mask = tf.concat([mask[:, 1:], tf.zeros_like(mask[:, :1])], axis=1)
    deltas = rewards + gamma * next_values * next_mask - values

    def backwards(later_advantage, step):
        delta, continues = step
        return delta + gamma * lam * continues * later_advantage

    # tf.scan over time, from the end: each step's advantage carries into the one before it.
    advantages = tf.scan(backwards, (tf.transpose(deltas), tf.transpose(next_mask)),
                         initializer=tf.zeros_like(deltas[:, 0]), reverse=True)
    advantages = tf.transpose(advantages) * mask
    return advantages, (advantages + values) * mask


def masked_mean(values, mask):
    mask = tf.cast(mask, tf.float32)
    return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def whiten(values, mask):
    """`values` shifted and scaled to mean 0 and variance 1 over the positions in `mask` (as PPO's advantages)."""
    mean = masked_mean(values, mask)
    variance = masked_mean(tf.square(values - mean), mask)
    return (values - mean) * tf.math.rsqrt(variance + 1e-8) * tf.cast(mask, tf.float32)


def ppo_policy_loss(log_probs, old_log_probs, advantages, mask, clip=0.2):
    """The clipped surrogate: −E[min(ρ A, clip(ρ, 1 − ε, 1 + ε) A)] over response tokens, ρ = π/π_old."""
    ratio = tf.exp(log_probs - old_log_probs)
    clipped = tf.clip_by_value(ratio, 1.0 - clip, 1.0 + clip)
    return masked_mean(-tf.minimum(ratio * advantages, clipped * advantages), mask)


def ppo_value_loss(values, old_values, returns, mask, clip=0.2):
    """½ E[max((V − R)², (V_clipped − R)²)], V_clipped kept within `clip` of the rollout's values (TRL's)."""
    clipped = old_values + tf.clip_by_value(values - old_values, -clip, clip)
    return 0.5 * masked_mean(tf.maximum(tf.square(values - returns), tf.square(clipped - returns)), mask)


def sequence_kl(log_probs, reference_log_probs, mask):
    """The Monte-Carlo estimate of KL(π ‖ π_ref) between sequence distributions, in nats, from responses
    sampled from π: the mean over samples of Σ_t log π(y_t|…) − log π_ref(y_t|…), unbiased for that draw."""
    return tf.reduce_mean(sequence_log_probability(log_probs - reference_log_probs, mask))


class AdaptiveKLController:
    """β_KL moved towards a target KL (Ziegler et al. 2019, eq. 4): e = clip(KL/target − 1, −0.2, 0.2) and
    β_KL ← β_KL · (1 + e · n / horizon) after each batch of n rollouts."""

    def __init__(self, initial, target, horizon=10_000):
        if initial <= 0 or target <= 0 or horizon <= 0:
            raise ValueError("the KL coefficient, target and horizon must be positive")
        self.value, self.target, self.horizon = float(initial), float(target), float(horizon)

    def update(self, kl, rollouts):
        error = min(max(float(kl) / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * rollouts / self.horizon
        return self.value


def entropy(logits, mask):
    """Mean entropy (nats) of the policy's next-token distributions over the response positions."""
    log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    per_token = -tf.reduce_sum(tf.exp(log_probabilities) * log_probabilities, axis=-1)
    return masked_mean(per_token, mask)

