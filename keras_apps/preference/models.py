"""The networks of preference tuning, built around a `build_gpt` model, and the Keras models that train them
with `fit`.

A reward model reads a text with the GPT's blocks and turns the hidden state of its last token into one
number (Ouyang et al. 2022; Stiennon et al. 2020). Both the reward model's Bradley–Terry objective and DPO's
are the log-likelihood of "chosen is preferred to rejected" under a logistic model, so each trains as a
binary classifier with `fit`: the trainer below outputs the logit of that preference, and the label of
every pair is 1 (`binary_crossentropy(1, logit) = softplus(−logit)`, the objectives' own form); its binary
accuracy at threshold 0 is the pairwise accuracy.

Token ids are padded with `PAD_ID` (0) at the end; a GPT reads causally, so padding after a text changes
nothing before it.
"""

import keras
from keras import ops

from keras_apps.models import parts
from keras_apps.preference import objectives

PAD_ID = 0


class LastTokenState(keras.layers.Layer):
    """The hidden state `[batch, width]` at each row's last token that is not `PAD_ID`."""

    def call(self, hidden, token_ids):
        lengths = ops.sum(ops.cast(ops.not_equal(token_ids, PAD_ID), "int32"), axis=1)
        last = ops.maximum(lengths - 1, 0)
        return ops.take_along_axis(hidden, last[:, None, None], axis=1)[:, 0]


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


def _pair_inputs(length=None):
    return {side: keras.Input(shape=(length,), dtype="int32", name=side) for side in ("chosen", "rejected")}


def bradley_terry_trainer(reward_model):
    """`{"chosen", "rejected"}` token ids in, r(chosen) − r(rejected) out: the logit of P(chosen ≻ rejected)."""
    inputs = _pair_inputs()
    margin = keras.layers.Subtract(name="margin")([reward_model(inputs["chosen"]), reward_model(inputs["rejected"])])
    return keras.Model(inputs, margin, name="bradley_terry")


def dpo_trainer(policy, beta):
    """DPO's preference logit (`objectives.dpo_logits`) of pairs of responses to the same prompt.

    Inputs: `chosen` and `rejected` token ids (prompt and response), `chosen_mask` and `rejected_mask` marking
    their response tokens, and `reference_chosen` / `reference_rejected`, the frozen reference model's
    log-probabilities of the two responses (computed once, before training: π_ref never changes).
    """
    inputs = _pair_inputs()
    inputs.update({f"{side}_mask": keras.Input(shape=(None,), name=f"{side}_mask") for side in ("chosen", "rejected")})
    inputs.update({f"reference_{side}": keras.Input(shape=(), name=f"reference_{side}")
                   for side in ("chosen", "rejected")})
    log_probability = ResponseLogProbability(name="response_log_probability")
    chosen = log_probability(policy(inputs["chosen"]), inputs["chosen"], inputs["chosen_mask"])
    rejected = log_probability(policy(inputs["rejected"]), inputs["rejected"], inputs["rejected_mask"])
    logit = DPOLogit(beta, name="dpo_logit")(chosen, rejected, inputs["reference_chosen"], inputs["reference_rejected"])
    return keras.Model(inputs, logit, name="dpo")


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


def compile_preference_trainer(trainer, optimizer):
    """`trainer` compiled to maximize the likelihood of every pair's preference (labels of 1, see above)."""
    trainer.compile(optimizer=optimizer, loss=keras.losses.BinaryCrossentropy(from_logits=True),
                    metrics=[keras.metrics.BinaryAccuracy(name="pairwise_accuracy", threshold=0.0)])
    return trainer
