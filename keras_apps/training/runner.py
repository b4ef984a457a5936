"""The one runner every task uses: seeds, strategy scope, compile, callbacks, `fit`, and the run record.

A task hands it a model builder, its loss and metrics, and `tf.data` datasets; the runner owns everything
that is the same from task to task. Rerunning with the same `--run-dir` resumes an interrupted run from
its last completed epoch (Keras's `BackupAndRestore`).
"""

import math
import sys
import time
from dataclasses import dataclass

import keras
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.training.callbacks import BestCheckpoint, TrainingClock


@dataclass
class FitResult:
    """What a finished `fit` leaves for the task to evaluate, export and report."""

    model: keras.Model
    epochs_completed: int
    initial_epoch: int
    train_seconds: float
    train_examples: int
    train_examples_per_second: float


def seed_everything(seed, deterministic=False):
    """Seeds Python, NumPy and TensorFlow; with `deterministic`, TensorFlow's ops become reproducible too."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def learning_rate(config, steps_per_epoch):
    """A float for `constant`, or linear warm-up then cosine decay to `min_lr_fraction` of the peak."""
    if config.lr_schedule == "constant":
        return config.learning_rate
    total_steps = config.epochs * steps_per_epoch
    warmup_steps = int(config.warmup_fraction * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else config.learning_rate,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=config.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
        alpha=config.min_lr_fraction,
    )


def build_optimizer(config, steps_per_epoch, model):
    """AdamW whose decoupled weight decay applies to weight matrices and embeddings only.

    Biases and normalization scales (the 1-D variables) are left undecayed, as in BERT and GPT-2:
    shrinking them toward zero regularizes nothing useful and fights the normalization.
    """
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate(config, steps_per_epoch),
        weight_decay=config.weight_decay,
        beta_2=config.adam_beta_2,
        global_clipnorm=config.gradient_clip_norm or None,
    )
    optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if len(v.shape) < 2])
    return optimizer


def _build_in_precision(build_model, precision):
    """Builds the model under the dtype policy `precision`, leaving the global policy as it was."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        return build_model()
    finally:
        keras.mixed_precision.set_global_policy(previous)


def build_callbacks(config, run_directory, clock):
    """Keras callbacks for progress, logs, the best checkpoint, resume and safety."""
    mode = "max" if "acc" in config.monitor else "min"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(run_directory.backup), double_checkpoint=True),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(run_directory.history), append=True),
        keras.callbacks.TensorBoard(str(run_directory.tensorboard)),
        BestCheckpoint(run_directory.best_model, monitor=config.monitor, mode=mode),
        clock,
    ]
    if config.early_stopping_patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=config.monitor, mode=mode, patience=config.early_stopping_patience, verbose=1
            )
        )
    return callbacks


def fit(
    build_model,
    train_dataset,
    validation_dataset,
    *,
    config,
    run_directory,
    strategy,
    loss,
    metrics=(),
    weighted_metrics=(),
    callbacks=(),
):
    """Builds and compiles the model under `strategy`, trains it, and restores the best checkpoint.

    Args:
        build_model: a no-argument callable returning an uncompiled `keras.Model` (called in scope).
        train_dataset: batched `tf.data.Dataset` of `(inputs, targets)` with a known cardinality, batched
            with the global batch size `config.batch_size` and `drop_remainder=True`.
        validation_dataset: batched dataset of the same structure.
        config: a `TrainingConfig`.
        run_directory: a `RunDirectory`; its backup makes a rerun resume.
        strategy: a `tf.distribute.Strategy` (see `keras_apps.training.strategy`).
        loss, metrics, weighted_metrics: passed to `compile` (weighted metrics use the datasets' sample
            weights, e.g. to count only the masked tokens).
        callbacks: the task's own callbacks, run after the runner's.
    """
    steps_per_epoch = int(train_dataset.cardinality())
    if steps_per_epoch < 1:
        raise ValueError("the training dataset must have a known, positive number of batches")
    with strategy.scope():
        model = _build_in_precision(build_model, config.precision)
        model.compile(
            optimizer=build_optimizer(config, steps_per_epoch, model),
            loss=loss,
            metrics=list(metrics),
            weighted_metrics=list(weighted_metrics),
            steps_per_execution=config.steps_per_execution,
            jit_compile=config.jit_compile,
        )
    clock = TrainingClock(config.batch_size)
    callbacks = [*build_callbacks(config, run_directory, clock), *callbacks]
    start = time.perf_counter()
    history = model.fit(
        train_dataset,
        validation_data=validation_dataset,
        epochs=config.epochs,
        callbacks=callbacks,
        shuffle=False,  # The dataset shuffles itself; Keras cannot shuffle a tf.data.Dataset.
        verbose=1 if sys.stdout.isatty() else 2,
    )
    train_seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        raise UserError(
            f"training diverged (the loss became {losses[-1]}) in epoch {history.epoch[-1] + 1}; "
            f"try a lower --learning-rate"
        )
    epochs_run = len(history.epoch)
    initial_epoch = history.epoch[0] if history.epoch else config.epochs
    if run_directory.best_model.exists():
        model.load_weights(run_directory.best_model)
    run_directory.plot_history()
    return FitResult(
        model=model,
        epochs_completed=initial_epoch + epochs_run,
        initial_epoch=initial_epoch,
        train_seconds=train_seconds,
        train_examples=clock.examples,
        train_examples_per_second=clock.examples_per_second,
    )
