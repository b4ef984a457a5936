"""The networks of preference tuning, built around a `build_gpt` model, and the Keras models that train them
with `fit`.

A reward model reads a text with the GPT's blocks and turns the hidden state of its last token into one
number (Ouyang et al. 2022; Stiennon et al. 2020). It trains with `fit` on rated texts: the Bradley–Terry loss
over every differently rated pair of each batch (`BradleyTerryLoss`, the ratings as labels).

DPO's objective is the log-likelihood of "chosen is preferred to rejected" under a logistic model, so it
trains as a binary classifier with `fit`: `dpo_trainer` outputs the logit of that preference, and the label
of every pair is 1 (`binary_crossentropy(1, logit) = softplus(−logit)`, DPO's own form) or the reward's
probability of that preference (`dpo.preference_labels`).

Token ids are padded with `PAD_ID` (0) at the end; a GPT reads causally, so padding after a text changes
nothing before it.
"""

import keras
from keras import ops

from keras_apps.models import parts
from keras_apps.preference import objectives

PAD_ID = 0


@keras.saving.register_keras_serializable(package="keras_apps")
class LastTokenState(keras.layers.Layer):
    """The hidden state `[batch, width]` at each row's last token that is not `PAD_ID`."""

    def call(self, hidden, token_ids):
        lengths = ops.sum(ops.cast(ops.not_equal(token_ids, PAD_ID), "int32"), axis=1)
        last = ops.maximum(lengths - 1, 0)
        return ops.take_along_axis(hidden, last[:, None, None], axis=1)[:, 0]


@keras.saving.register_keras_serializable(package="keras_apps")
class ResponseLogProbability(keras.layers.Layer):
    """log π(response | prompt) per row: the sum, over the positions `mask` marks (response tokens), of the
    log-probability the GPT's `logits` gave each token after the ones before it."""

    def call(self, logits, token_ids, mask):
        token_log_probs = objectives.token_log_probabilities(logits[:, :-1], token_ids[:, 1:])
        return objectives.sequence_log_probability(token_log_probs, mask[:, 1:])


def build_reward_model(gpt, name="reward_model"):
    """Token ids `[batch, length]` in, a scalar reward `[batch]` out: the GPT's blocks and final norm (its
    weights shared, not copied), then a linear head on the last token's hidden state."""
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    backbone = keras.Model(gpt.input, gpt.get_layer(parts.FINAL_NORM).output, name="backbone")
    state = LastTokenState(name="last_token")(backbone(token_ids), token_ids)
    reward = keras.layers.Dense(1, dtype="float32", name="reward")(state)
    return keras.Model(token_ids, ops.squeeze(reward, axis=-1), name=name)


def build_classifier(gpt, *, from_scratch=False, name="gpt_classifier"):
    """GPT-1's classifier (Radford et al. 2018): `build_reward_model`'s network, its one number a logit
    `[batch, 1]`. With `from_scratch`, the GPT's shape with every weight drawn afresh by its initializers."""
    if from_scratch:
        gpt = keras.models.clone_model(gpt)
    head = build_reward_model(gpt, name=name)
    return keras.Model(head.input, ops.expand_dims(head.output, -1), name=name)


@keras.saving.register_keras_serializable(package="keras_apps")
class BradleyTerryLoss(keras.losses.Loss):
    """`objectives.rated_batch_bradley_terry_loss`: labels are ratings, predictions rewards."""

    def __init__(self, name="bradley_terry", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, ratings, rewards):
        return objectives.rated_batch_bradley_terry_loss(ratings, rewards)


@keras.saving.register_keras_serializable(package="keras_apps")
class PairwiseAccuracy(keras.metrics.Mean):
    """`objectives.rated_batch_pairwise_accuracy`, averaged over batches: labels are ratings, predictions
    rewards."""

    def __init__(self, name="pairwise_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, ratings, rewards, sample_weight=None):
        return super().update_state(objectives.rated_batch_pairwise_accuracy(ratings, rewards))


def reward_objective():
    """What a reward model compiles with to learn from rated texts (`fit(token_ids, ratings)`)."""
    return {"loss": BradleyTerryLoss(), "metrics": [PairwiseAccuracy()]}


def dpo_trainer(policy, beta):
    """DPO's preference logit (`objectives.dpo_logits`) of pairs of responses to the same prompt.

    Inputs: `chosen` and `rejected` token ids (prompt and response), `chosen_mask` and `rejected_mask` marking
    their response tokens, and `reference_chosen` / `reference_rejected`, the frozen reference model's
    log-probabilities of the two responses (computed once, before training: π_ref never changes). The policy's
    dropout is turned off (`without_dropout`), as the reference's was.
    """
    inputs = {side: keras.Input(shape=(None,), dtype="int32", name=side) for side in ("chosen", "rejected")}
    inputs.update({f"{side}_mask": keras.Input(shape=(None,), name=f"{side}_mask") for side in ("chosen", "rejected")})
    inputs.update({f"reference_{side}": keras.Input(shape=(), name=f"reference_{side}")
                   for side in ("chosen", "rejected")})
    # float32 whatever the policy computes in: log-probabilities of whole responses are sums that 16 bits blur.
    log_probability = ResponseLogProbability(name="response_log_probability", dtype="float32")
    without_dropout(policy)
    chosen = log_probability(policy(inputs["chosen"]), inputs["chosen"], inputs["chosen_mask"])
    rejected = log_probability(policy(inputs["rejected"]), inputs["rejected"], inputs["rejected_mask"])
    logit = DPOLogit(beta, name="dpo_logit", dtype="float32")(chosen, rejected, inputs["reference_chosen"],
                                                              inputs["reference_rejected"])
    return keras.Model(inputs, logit, name="dpo")


def without_dropout(model):
    """Sets the rate of every `Dropout` inside `model` to 0, as TRL's trainers do (`disable_dropout`): DPO's
    logits compare the policy's log-probabilities of whole responses with the reference's, computed without
    dropout, and dropped units would add the noise of every response token to each of them. (A functional
    model's `training` argument reaches every layer inside it, so `policy(ids, training=False)` cannot do this.)"""
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    return model


@keras.saving.register_keras_serializable(package="keras_apps")
class DPOLogit(keras.layers.Layer):
    """`objectives.dpo_logits` as a layer, its β a setting saved with it."""

    def __init__(self, beta, **kwargs):
        super().__init__(**kwargs)
        if beta <= 0:
            raise ValueError(f"DPO's beta must be positive, got {beta}")
        self.beta = float(beta)

    def call(self, chosen, rejected, reference_chosen, reference_rejected):
        return objectives.dpo_logits(chosen, rejected, reference_chosen, reference_rejected, self.beta)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@keras.saving.register_keras_serializable(package="keras_apps")
class PreferenceAccuracy(keras.metrics.Mean):
    """How often the policy prefers the chosen response more than the reference does (a DPO logit above 0),
    whatever the pair's label (1, or the reward's probability: `dpo.preference_labels`)."""

    def __init__(self, name="preference_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, labels, logits, sample_weight=None):
        return super().update_state(ops.cast(ops.greater(logits, 0.0), "float32"), sample_weight=sample_weight)


def dpo_objective():
    """What a `dpo_trainer` compiles with: the likelihood of every pair's preference (labels of 1, or the
    reward's probabilities, see above), and `PreferenceAccuracy`."""
    return {"loss": keras.losses.BinaryCrossentropy(from_logits=True), "metrics": [PreferenceAccuracy()]}
