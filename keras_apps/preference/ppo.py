"""PPO for a GPT (Ziegler et al. 2019; TRL's `PPOTrainer`), trained by Keras `fit`: one epoch of `fit` is one
PPO iteration.

At the start of each epoch, `Rollouts` (a callback) continues a fresh draw of prompts with the current policy,
scores the responses with the reward (`rewards`), and works out what PPO's updates need: the policy's and the
reference's log-probability of each response token, the value of each state, the KL-penalized rewards, and
advantages (whitened) and returns by GAE. It writes them into the trainer's rollout buffer, non-trainable
variables; the epoch's steps then read minibatches of its rows, `ppo_epochs` passes in a fresh order each, so
the dataset `fit` reads holds row numbers only (`row_batches`). The buffer and the KL coefficient being the
trainer's variables, a run stopped after any epoch resumes from its checkpoint like every other run.

The policy and the value head share the GPT's blocks (as TRL's model with a value head): the value is a linear
function of the final hidden state. Both read with dropout off, so that the log-probabilities of the updates
are those of the policy that sampled the rollouts until it changes.

The trainer's metrics are each iteration's figures, in the progress bar, `history.csv` and TensorBoard:
`score` (the reward's, of the rollouts), `kl` (their KL to the reference, nats a response),
`kl_coefficient` (β_KL after this iteration's adaptive update), `entropy`, the two losses and `clip_fraction`.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_apps import timing
from keras_apps.errors import UserError
from keras_apps.models import parts
from keras_apps.preference import objectives
from keras_apps.preference.evaluation import ResponseSampler

# What the buffer keeps of each rollout: the response's tokens, and per predicted token (one fewer).
TOKEN_FIELDS = {"tokens": "int32", "mask": "float32"}
STEP_FIELDS = ("log_probs", "values", "advantages", "returns")
ROW_FIELDS = ("score", "kl")
METRICS = ("policy_loss", "value_loss", "entropy", "clip_fraction", "score", "kl", "kl_coefficient")


class PPOTrainer(keras.Model):
    """A `build_gpt` policy with a value head, trained by PPO's clipped objective on its rollout buffer, and the
    frozen reference (another `build_gpt` model with the policy's starting weights).

    `fit` feeds it batches of buffer rows (`row_batches`); `Rollouts` fills the buffer. Its loss is the clipped
    policy loss plus `value_coefficient` times the clipped value loss (`objectives`).
    """

    def __init__(self, policy, reference, *, rollouts, length, kl_coefficient=0.2, value_coefficient=0.1, clip=0.2,
                 **kwargs):
        super().__init__(**kwargs)
        self.policy, self.reference = policy, reference
        reference.trainable = False  # built beside the policy, in its precision, so that at first their KL is 0
        self.backbone = keras.Model(policy.input, [policy.output, policy.get_layer(parts.FINAL_NORM).output],
                                    name="policy_and_state")
        self.value_head = keras.layers.Dense(1, kernel_initializer="zeros", dtype="float32", name="value")
        self.value_head.build((None, policy.get_layer(parts.FINAL_NORM).output.shape[-1]))
        self.length, self.clip, self.value_coefficient = length, clip, value_coefficient
        shapes = {**{name: ((rollouts, length), dtype) for name, dtype in TOKEN_FIELDS.items()},
                  **{name: ((rollouts, length - 1), "float32") for name in STEP_FIELDS},
                  **{name: ((rollouts,), "float32") for name in ROW_FIELDS}}
        self.buffer = {name: self.add_weight(shape=shape, dtype=dtype, initializer="zeros", trainable=False,
                                             name=name) for name, (shape, dtype) in shapes.items()}
        self.kl_coefficient = self.add_weight(shape=(), initializer=keras.initializers.Constant(kl_coefficient),
                                              trainable=False, name="kl_coefficient")
        self.trackers = [keras.metrics.Mean(name=name) for name in METRICS]
        self.built = True

    def logits_and_values(self, tokens):
        """The policy's logits `[batch, length, vocabulary]` and the value of each position `[batch, length]`."""
        logits, state = self.backbone(tokens, training=False)
        return logits, tf.squeeze(self.value_head(state), axis=-1)

    def call(self, rows):
        return self.logits_and_values(tf.gather(self.buffer["tokens"], rows))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        rows = {name: tf.gather(variable, x) for name, variable in self.buffer.items()}
        logits, values = y_pred
        logits, mask = logits[:, :-1], rows["mask"][:, 1:]  # the logits of each position predict the next token
        log_probs = objectives.token_log_probabilities(logits, rows["tokens"][:, 1:])
        policy_loss = objectives.ppo_policy_loss(log_probs, rows["log_probs"], rows["advantages"], mask, self.clip)
        value_loss = objectives.ppo_value_loss(tf.cast(values[:, :-1], tf.float32), rows["values"], rows["returns"],
                                               mask, self.clip)
        clipped = tf.cast(tf.abs(tf.exp(log_probs - rows["log_probs"]) - 1.0) > self.clip, tf.float32)
        figures = (policy_loss, value_loss, objectives.entropy(logits, mask), objectives.masked_mean(clipped, mask),
                   tf.reduce_mean(rows["score"]), tf.reduce_mean(rows["kl"]), self.kl_coefficient)
        for tracker, value in zip(self.trackers, figures):
            tracker.update_state(value)
        return policy_loss + self.value_coefficient * value_loss


def row_batches(rollouts, minibatch, ppo_epochs, *, seed=0):
    """The dataset of one PPO iteration for `fit`: `ppo_epochs` passes over the buffer's row numbers, shuffled
    afresh each pass, in minibatches."""
    rows = tf.data.Dataset.range(rollouts).map(lambda row: tf.cast(row, tf.int32))
    return rows.shuffle(rollouts, seed=seed).batch(minibatch, drop_remainder=True).repeat(ppo_epochs)


def rollout(trainer, reward, samples, kl_coefficient):
    """The buffer's fields (numpy arrays) for `samples` (`evaluation.Samples`) of the trainer's policy, scored by
    `reward` (`rewards`)."""
    tokens = _padded(samples.sequences(), trainer.length)
    mask = _padded(samples.response_mask(), trainer.length)
    scores = tf.constant(reward(samples), tf.float32)
    return {name: np.asarray(value) for name, value in
            _measured(trainer, tokens, mask, scores, tf.constant(kl_coefficient, tf.float32)).items()}


@tf.function(jit_compile=True, reduce_retracing=True)
def _measured(trainer, tokens, mask, scores, kl_coefficient):
    """`rollout`'s work on scored rollouts in one compiled function: the policy and the reference over them,
    then GAE."""
    logits, values = trainer.logits_and_values(tokens)
    log_probs = objectives.token_log_probabilities(logits[:, :-1], tokens[:, 1:])
    reference_logits = trainer.reference(tokens, training=False)[:, :-1]
    reference_log_probs = objectives.token_log_probabilities(reference_logits, tokens[:, 1:])
    response = mask[:, 1:]
    rewards = objectives.kl_penalized_rewards(scores, log_probs, reference_log_probs, response, kl_coefficient)
    values = tf.cast(values[:, :-1], tf.float32) * response
    advantages, returns = objectives.generalized_advantages(rewards, values, response)
    kl = objectives.sequence_log_probability(log_probs - reference_log_probs, response)
    return {"tokens": tokens, "mask": mask, "log_probs": log_probs, "values": values,
            "advantages": objectives.whiten(advantages, response), "returns": returns, "score": scores, "kl": kl}


def _padded(rows, length):
    if rows.shape[1] > length:
        raise ValueError(f"rollouts of {rows.shape[1]} tokens do not fit the buffer's {length}")
    return np.pad(rows, [(0, 0), (0, length - rows.shape[1])])


class Rollouts(keras.callbacks.Callback):
    """Fills the `PPOTrainer`'s buffer at the start of each epoch with `rollouts` responses of its policy to
    prompts drawn from `prompts`, then moves β_KL towards `kl_target` (`objectives.AdaptiveKLController`).

    An epoch's prompts are all of one length, drawn afresh each epoch, so that they decode side by side in one
    shape (prompts of several lengths would decode in as many small batches). Each epoch's draw of prompts and
    samples is seeded by `seed` and the epoch, so a resumed run repeats it.

    Its time goes to `phases` (`timing.Phases`) as sampling and decoding, not to the training it interrupts.
    """

    def __init__(self, reward, prompts, *, phases, rollouts, new_tokens, kl_target, kl_horizon=10_000, seed=0,
                 batch_size=128):
        super().__init__()
        self.reward, self.prompts, self.phases = reward, prompts, phases
        self.prompt_lengths = np.array([len(prompt) for prompt in prompts])
        self.rollouts, self.new_tokens, self.seed, self.batch_size = rollouts, new_tokens, seed, batch_size
        self.kl_target, self.kl_horizon = kl_target, kl_horizon
        self.sampler = None

    def on_epoch_begin(self, epoch, logs=None):
        trainer = self.model
        with self.phases.during(timing.SAMPLING):
            if self.sampler is None:  # made once: its decoding compiles once and follows the policy's weights
                self.sampler = ResponseSampler(trainer.policy, min(self.batch_size, self.rollouts))
            rng = np.random.default_rng([self.seed, epoch])
            rows = np.flatnonzero(self.prompt_lengths == rng.choice(np.unique(self.prompt_lengths)))
            chosen = rng.choice(rows, self.rollouts, replace=len(rows) < self.rollouts)
            prompts = [self.prompts[row] for row in chosen]
            samples = self.sampler(prompts, self.new_tokens, seed=int(rng.integers(2**30)))
            coefficient = float(trainer.kl_coefficient.numpy())
            for name, values in rollout(trainer, self.reward, samples, coefficient).items():
                trainer.buffer[name].assign(values)
            controller = objectives.AdaptiveKLController(coefficient, self.kl_target, self.kl_horizon)
            trainer.kl_coefficient.assign(controller.update(trainer.buffer["kl"].numpy().mean(), self.rollouts))


def check_settings(strategy, rollouts, batch_size):
    """Refuses, in one line and before a run opens, what PPO cannot do: rollouts sampled on several replicas (they
    run outside `fit`, on one device), or rollouts that are not whole minibatches."""
    if strategy.num_replicas_in_sync > 1:
        raise UserError("PPO samples its rollouts on one device; run it with --strategy cpu or gpu")
    if rollouts % batch_size:
        raise UserError(f"--rollouts {rollouts} is not a multiple of --batch-size {batch_size}: each pass over an "
                        f"iteration's rollouts is made of whole minibatches")


def fit_ppo(run, sft, reward, prompts, *, rollouts, ppo_epochs, new_tokens, kl_target, kl_coefficient,
            kl_horizon):
    """PPO as `run.fit` runs every training (checkpoints, resume, TensorBoard, the time breakdown): a
    `PPOTrainer` of two copies of the SFT model (`sft`, an `ExportStart`), `Rollouts` of `prompts` filling its
    buffer each epoch, no validation (the last epoch's policy is the result)."""
    config = run.config
    length = max(map(len, prompts)) + new_tokens
    callback = Rollouts(reward, prompts, phases=run.phases, rollouts=rollouts, new_tokens=new_tokens,
                        kl_target=kl_target, kl_horizon=kl_horizon, seed=config.seed)
    return run.fit(lambda: PPOTrainer(sft.build_model(), sft.build_model(), rollouts=rollouts, length=length,
                                      kl_coefficient=kl_coefficient),
                   row_batches(rollouts, config.batch_size, ppo_epochs, seed=config.seed), None, loss=None,
                   callbacks=[callback])
