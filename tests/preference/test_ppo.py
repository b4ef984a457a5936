"""PPO run by `fit`: the rollout buffer a callback fills, the first update's ratio of 1, resuming the same draw,
and a tiny policy learning to earn a reward that counts one token."""

import time
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import ops

from keras_apps import timing
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference import objectives, ppo, rewards
from keras_apps.preference.evaluation import Samples
from keras_apps.text.wordpieces import NEWLINE_ID

ROLLOUTS, NEW_TOKENS, REWARDED = 16, 6, 5
PROMPTS = [np.array([NEWLINE_ID, 3, 4][:length], np.int32) for length in (2, 3)] * 10


def token_counter():
    """A reward model: how many times `REWARDED` appears in the sequence."""
    tokens = keras.Input((None,), dtype="int32")
    return keras.Model(tokens, ops.sum(ops.cast(ops.equal(tokens, REWARDED), "float32"), axis=1))


def trainer(**settings):
    keras.utils.set_random_seed(0)
    config = GPTConfig(vocabulary_size=12, context_length=16, num_layers=1, num_heads=2, hidden_dim=16, dropout=0.0)
    policy, reference = build_gpt(config), build_gpt(config)
    reference.set_weights(policy.get_weights())
    return ppo.PPOTrainer(policy, reference, rollouts=ROLLOUTS, length=3 + NEW_TOKENS, **settings)


def rollouts(reward=None, **settings):
    return ppo.Rollouts(reward or rewards.LearnedReward(token_counter()), PROMPTS, rollouts=ROLLOUTS,
                        new_tokens=NEW_TOKENS, batch_size=8,
                        **{"kl_target": 3.0, "phases": timing.Phases(timing.now()), **settings})


def filled(model, callback, epoch=0):
    callback.set_model(model)
    callback.on_epoch_begin(epoch)
    return {name: variable.numpy() for name, variable in model.buffer.items()}


def random_value_head(model, seed=0):
    rng = np.random.default_rng(seed)
    model.value_head.set_weights([rng.normal(size=weight.shape).astype("float32")
                                  for weight in model.value_head.get_weights()])


def test_a_rollout_fills_the_buffer_and_the_first_update_sees_a_ratio_of_one():
    model = trainer()
    random_value_head(model)  # values of the rollout's states, not zeros, for the value loss to compare
    buffer = filled(model, rollouts())
    mask = buffer["mask"][:, 1:]
    assert buffer["tokens"].shape == (ROLLOUTS, 3 + NEW_TOKENS) and mask.sum(axis=1).min() >= 1
    np.testing.assert_array_equal(buffer["score"], (buffer["tokens"] == REWARDED).sum(axis=1))
    np.testing.assert_allclose(buffer["kl"], 0.0, atol=1e-5)  # the policy is still the reference
    advantages = buffer["advantages"][mask > 0]
    assert abs(advantages.mean()) < 1e-4 and advantages.std() == pytest.approx(1.0, abs=1e-3)  # whitened
    assert np.all(buffer["advantages"][mask == 0] == 0) and np.all(buffer["returns"][mask == 0] == 0)

    rows = np.arange(ROLLOUTS, dtype=np.int32)
    loss = model.compute_loss(rows, y_pred=model(rows))
    results = {tracker.name: float(tracker.result()) for tracker in model.trackers}
    assert results["clip_fraction"] == 0.0  # ratio π/π_old = 1 before any update
    assert results["policy_loss"] == pytest.approx(-advantages.mean(), abs=1e-5)
    # The values of each predicted token's state are still the rollout's, so clipping changes nothing.
    expected = 0.5 * np.sum((buffer["values"] - buffer["returns"]) ** 2 * mask) / mask.sum()
    assert results["value_loss"] == pytest.approx(expected, rel=1e-5)
    assert float(loss) == pytest.approx(results["policy_loss"] + 0.1 * results["value_loss"], rel=1e-5, abs=1e-6)


def test_once_the_policy_moves_its_ratio_is_clipped_at_the_trainers_clip():
    model = trainer(clip=0.2)
    buffer = filled(model, rollouts())
    rng = np.random.default_rng(1)
    model.policy.set_weights([weight + rng.normal(scale=0.3, size=weight.shape).astype(weight.dtype)
                              for weight in model.policy.get_weights()])  # no longer the policy of the rollouts
    rows = np.arange(ROLLOUTS, dtype=np.int32)
    model.compute_loss(rows, y_pred=model(rows))
    results = {tracker.name: float(tracker.result()) for tracker in model.trackers}
    tokens, mask, advantages = buffer["tokens"], buffer["mask"][:, 1:], buffer["advantages"]
    log_probs = objectives.token_log_probabilities(model.policy(tokens)[:, :-1], tokens[:, 1:]).numpy()
    ratio = np.exp(log_probs - buffer["log_probs"])
    outside = (np.abs(ratio - 1) > 0.2) * mask
    assert outside.sum() > 0 and (mask - outside).sum() > 0  # some tokens clipped, some not
    surrogate = np.minimum(ratio * advantages, np.clip(ratio, 0.8, 1.2) * advantages)
    assert results["policy_loss"] == pytest.approx(-np.sum(surrogate * mask) / mask.sum(), rel=1e-4, abs=1e-5)
    assert results["clip_fraction"] == pytest.approx(outside.sum() / mask.sum(), rel=1e-5)


def test_each_epochs_draw_is_seeded_so_a_resumed_run_repeats_it():
    model, callback = trainer(), rollouts(seed=1)  # one sampler: it compiles once
    first = filled(model, callback, epoch=3)
    assert not np.array_equal(first["tokens"], filled(model, callback, epoch=4)["tokens"])
    np.testing.assert_array_equal(first["tokens"], filled(model, callback, epoch=3)["tokens"])  # after other draws


def test_each_response_token_s_reward_is_less_its_kl_times_the_kl_coefficient():
    """With no score and a zero value head the returns are GAE's λ-discounted sums of the per-token rewards
    −β_KL · (log π − log π_ref) over the rest of the response, and 0 with β_KL = 0."""
    model = trainer()
    rng = np.random.default_rng(0)
    model.policy.set_weights([weight + rng.normal(scale=0.1, size=weight.shape).astype(weight.dtype)
                              for weight in model.policy.get_weights()])  # the policy no longer the reference
    samples = Samples([PROMPTS[row % len(PROMPTS)] for row in range(ROLLOUTS)],
                      rng.integers(3, 12, size=(ROLLOUTS, NEW_TOKENS)).astype(np.int32))
    free, penalized = (ppo.rollout(model, lambda samples: np.zeros(len(samples.prompts)), samples, beta)
                       for beta in (0.0, 1.0))
    tokens, response = penalized["tokens"], penalized["mask"][:, 1:]
    reference = objectives.token_log_probabilities(model.reference(tokens)[:, :-1], tokens[:, 1:]).numpy()
    kl = (penalized["log_probs"] - reference) * response
    assert np.abs(kl).sum(axis=1).min() > 1e-3
    np.testing.assert_allclose(penalized["kl"], kl.sum(axis=1), rtol=1e-4, atol=1e-6)
    steps = np.arange(response.shape[1])
    discounts = np.triu(0.95 ** (steps[None, :] - steps[:, None]))  # [t, k]: λ^(k − t) for k ≥ t
    np.testing.assert_array_equal(free["returns"], 0.0)
    np.testing.assert_allclose(penalized["returns"] - free["returns"], -(kl @ discounts.T) * response,
                               rtol=1e-4, atol=1e-6)


def test_the_returns_are_gae_over_the_value_heads_estimates():
    """With no reward at all the returns are what the value head's own estimates bootstrap (GAE's λ-return),
    not 0: the critic's values enter the advantages."""
    model = trainer()
    random_value_head(model)
    rng = np.random.default_rng(0)
    samples = Samples([PROMPTS[row % len(PROMPTS)] for row in range(ROLLOUTS)],
                      rng.integers(3, 12, size=(ROLLOUTS, NEW_TOKENS)).astype(np.int32))
    got = ppo.rollout(model, lambda samples: np.zeros(len(samples.prompts)), samples, 0.0)
    response = got["mask"][:, 1:]
    assert np.abs(got["values"] * response).sum() > 1e-3
    _, returns = objectives.generalized_advantages(np.zeros_like(response), got["values"], response)
    assert np.abs(returns.numpy()).sum() > 1e-3
    np.testing.assert_allclose(got["returns"], returns.numpy(), rtol=1e-4, atol=1e-5)


def test_the_kl_coefficient_moves_towards_its_target_after_each_rollout():
    model = trainer(kl_coefficient=0.5)
    # KL 0 is below the target (the scores, far above it, play no part): the penalty eases.
    filled(model, rollouts(lambda samples: np.full(len(samples.prompts), 10.0), kl_target=3.0, kl_horizon=100))
    assert float(model.kl_coefficient.numpy()) == pytest.approx(0.5 * (1 - 0.2 * ROLLOUTS / 100))


def test_fit_raises_the_reward_of_a_tiny_policy_and_moves_it_from_the_reference():
    model = trainer()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=True)
    history = model.fit(ppo.row_batches(ROLLOUTS, 8, 2).repeat(), steps_per_epoch=4, epochs=12,
                        callbacks=[rollouts()], shuffle=False, verbose=0).history
    assert np.mean(history["score"][-3:]) > np.mean(history["score"][:3]) + 1.0
    assert history["kl"][0] == pytest.approx(0.0, abs=1e-4) and history["kl"][-1] > 0.5
    assert history["entropy"][-1] < history["entropy"][0]


def test_the_rollouts_time_is_sampling_not_training_steps():
    """The rollouts run at each epoch's start, inside `fit` and after the `TrainingClock`'s `on_epoch_begin`
    (the runner puts it first): their time is booked as sampling and decoding, none of it as training steps."""
    from keras_apps.training.callbacks import TrainingClock

    counter, pause, epochs = rewards.LearnedReward(token_counter()), 0.5, 2

    def slow_reward(samples):
        time.sleep(pause)
        return counter(samples)

    phases, clock, model = timing.Phases(timing.now()), TrainingClock(batch_size=8), trainer()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    phases.begin("training")
    model.fit(ppo.row_batches(ROLLOUTS, 8, 1), epochs=epochs, verbose=0,
              callbacks=[clock, rollouts(slow_reward, phases=phases)])
    phases.begin("evaluation")
    assert phases.seconds[timing.SAMPLING] >= epochs * pause
    assert clock.steps == epochs * ROLLOUTS // 8 and clock.seconds <= phases.seconds["training"]


def test_row_batches_visit_every_row_once_each_pass():
    passes = list(ppo.row_batches(8, 4, 3, seed=0).as_numpy_iterator())
    assert len(passes) == 6 and all(len(batch) == 4 for batch in passes)
    for start in range(0, 6, 2):
        assert sorted(np.concatenate(passes[start: start + 2])) == list(range(8))


def test_row_batches_shuffle_afresh_each_pass():
    passes = [batch.tolist() for batch in ppo.row_batches(16, 4, 3, seed=0).as_numpy_iterator()]
    assert passes[:4] != passes[4:8] and passes[4:8] != passes[8:]


def test_rollouts_longer_than_the_buffer_are_refused():
    assert ppo._padded(np.ones((2, 4), np.int32), 5).tolist() == [[1, 1, 1, 1, 0]] * 2
    with pytest.raises(ValueError, match="rollouts of 6 tokens do not fit the buffer's 5"):
        ppo._padded(np.ones((2, 6), np.int32), 5)


class Interrupted(Exception):
    pass


def test_a_ppo_run_interrupted_mid_epoch_resumes_with_its_kl_coefficient_and_optimizer(tmp_path):
    from keras_apps.training.config import TrainingConfig
    from keras_apps.training.run_directory import RunDirectory
    from keras_apps.training.runner import fit
    from keras_apps.training.strategy import select_strategy
    from tests.training.helpers import InterruptMidEpoch

    def interrupt():
        raise Interrupted

    config = TrainingConfig(epochs=3, batch_size=8, learning_rate=1e-4, strategy="cpu")
    run, horizon = RunDirectory.create("rlhf-ppo", tmp_path / "run"), 100

    def ppo_fit(*extra):  # every epoch's KL stays below the target: each update eases β_KL by the same factor
        return fit(trainer, ppo.row_batches(ROLLOUTS, 8, 2), None, config=config, run_directory=run,
                   strategy=select_strategy("cpu"), loss=None,
                   callbacks=[rollouts(kl_target=50.0, kl_horizon=horizon), *extra])

    with pytest.raises(Interrupted):
        ppo_fit(InterruptMidEpoch(1, interrupt))
    assert [row["epoch"] for row in run.read_history()] == [0] and run.is_resumable
    result = ppo_fit()
    assert result.initial_epoch == 1 and result.epochs_completed == 3
    assert int(result.model.optimizer.iterations) == 3 * 4  # the backup's count of epoch 0's steps, then 2 epochs
    eased = 0.2 * (1 - 0.2 * ROLLOUTS / horizon) ** 3  # one update per epoch, epoch 0's restored from the backup
    assert float(result.model.kl_coefficient.numpy()) == pytest.approx(eased, rel=1e-5)


def test_settings_ppo_cannot_run_are_refused_in_one_line():
    import tensorflow as tf

    from keras_apps.errors import UserError

    ppo.check_settings(tf.distribute.get_strategy(), 128, 32)
    with pytest.raises(UserError, match="--rollouts 100 is not a multiple of --batch-size 32"):
        ppo.check_settings(tf.distribute.get_strategy(), 100, 32)
    with pytest.raises(UserError, match="on one device"):
        ppo.check_settings(SimpleNamespace(num_replicas_in_sync=2), 128, 32)
