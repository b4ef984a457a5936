"""The one runner every task uses: seeds, strategy scope, compile, callbacks, `fit`, and the run record.

A task hands it a model builder, its loss and metrics, and `tf.data` datasets; the runner owns everything
that is the same from task to task. Rerunning with the same `--run-dir` resumes an interrupted run from
its last completed epoch (Keras's `BackupAndRestore`).

On a multi-worker cluster every worker runs the same command: each trains its share of every global batch,
keeps its own backup (a restarted cluster resumes from the chief's, so that every worker starts from the same
epoch), and only the chief writes the run's record, TensorBoard logs and export.
"""

import contextlib
import math
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import keras
import tensorflow as tf

from keras_apps import files
from keras_apps.data.autotune import without_autotune
from keras_apps.errors import UserError
from keras_apps.training.callbacks import (
    Backup, BestCheckpoint, HistoryFromResume, ResumedEarlyStopping, TrainingClock,
)
from keras_apps.training.multi_worker import MultiWorkerModel
from keras_apps.training.run_directory import OPENED_FOR_TRAINING, WORKERS, RunDirectory
from keras_apps.training.strategy import is_multi_worker, worker_role


@dataclass
class FitResult:
    """What a finished `fit` leaves for the task to evaluate, export and report."""

    model: keras.Model
    epochs_completed: int
    initial_epoch: int
    train_seconds: float
    train_examples: int
    train_examples_per_second: float
    train_step_seconds: float | None  # the median step once compiled (`TrainingClock.step_seconds`)
    trainable_params: int | None = None  # what the optimizer trained (fewer than the model's with LoRA)
    is_chief: bool = True  # False on the other workers of a cluster, which leave evaluating and writing to the chief
    # The seconds of this process's training steps: {"tracing and compilation", "training steps"} (see
    # `TrainingClock.phases`); empty when the training ended in an earlier attempt.
    step_phases: dict = field(default_factory=dict)

    def save(self, run_directory):
        """Records the trained model and its figures in the run, so that a rerun need not train again."""
        files.write_weights(self.model, run_directory.trained_weights)
        figures = {name: getattr(self, name) for name in self.recorded()}
        files.write_json(run_directory.fit_record, {**figures, "jit_compile": bool(self.model.jit_compile)})

    @classmethod
    def recorded(cls):
        """The fields `save` records in `fit.json` (besides how the model was compiled), {name: type}: all but the
        model, saved beside it, and the step phases, which are this process's alone."""
        return {item.name: item.type for item in fields(cls) if item.name not in ("model", "step_phases")}


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


def build_in_precision(build_model, precision):
    """Builds the model under the dtype policy `precision`, leaving the global policy as it was."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        return build_model()
    finally:
        keras.mixed_precision.set_global_policy(previous)


def open_run_directory(task, run_dir, strategy):
    """The run's folder for this process: the run itself on the chief, `workers/<name>/` inside it elsewhere.

    On a cluster, every worker must be given the same `--run-dir` (on storage all of them can reach, or the
    same path on each machine): a worker restarted after a failure finds its backup there.
    """
    is_chief, name = worker_role(strategy)
    run = RunDirectory.create(task, run_dir, hold=is_chief)
    OPENED_FOR_TRAINING.append(run.path)  # every worker resumes with the chief's folder as --run-dir
    return run if is_chief else RunDirectory.create(task, run.path / WORKERS / name)


def _resume_with_the_chief(run_directory):
    """Gives a worker other than the chief the chief's backup, where it can reach it, to resume from.

    Each worker saves its backup after the last collective of an epoch: a worker killed in between keeps a
    backup one epoch older than the chief's, and a cluster whose workers resume from different epochs trains
    out of step. So, as tf.keras did, every worker resumes from the chief's backup (on one machine or a shared
    `--run-dir`); on storage of its own, the worker has only its own backup to resume from.
    """
    parts = run_directory.path.parts  # <run>/workers/<name>/<rest>, where the chief has <run>/<rest>
    if WORKERS not in parts[:-1]:
        return
    at = len(parts) - 1 - parts[::-1].index(WORKERS)
    chief_backup = Path(*parts[:at], *parts[at + 2:], run_directory.backup.name)
    if not chief_backup.is_dir():
        return
    copy = run_directory.backup.with_name(f"{run_directory.backup.name}.chief")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(chief_backup, copy)
    shutil.rmtree(run_directory.backup, ignore_errors=True)
    copy.rename(run_directory.backup)


def build_callbacks(config, run_directory, clock, *, is_chief=True):
    """Keras callbacks for progress, logs, the best checkpoint, resume and safety (TensorBoard on the chief)."""
    mode = "max" if "acc" in config.monitor else "min"
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(run_directory.history), append=True),
        HistoryFromResume(run_directory),
        *([keras.callbacks.TensorBoard(str(run_directory.tensorboard))] if is_chief else []),
        BestCheckpoint(run_directory.best_model, monitor=config.monitor, mode=mode),
        clock,
        # After what an epoch records (its history row, the best checkpoint): an epoch's backup commits it, and a
        # command that dies before the backup redoes the epoch rather than losing its records. Kept after the last
        # epoch until `fit.json` is written (`RunDirectory.clear_training_state`): a command that dies in between
        # resumes from it rather than training again from the first epoch.
        Backup(run_directory.backup),
    ]
    if config.early_stopping_patience:
        callbacks.append(
            ResumedEarlyStopping(
                run_directory, monitor=config.monitor, mode=mode, patience=config.early_stopping_patience, verbose=1
            )
        )
    return callbacks


def shard_by_data(dataset):
    """Shards `dataset` among workers element by element (`AutoShardPolicy.DATA`), stated rather than guessed.

    Our datasets come from arrays and generators in memory, not from files, so `tf.data`'s default (shard by
    file, falling back to by data with a warning) has nothing to shard by file. By data, every worker reads the
    whole stream and keeps its share of each global batch; that is why every shuffle here is seeded: all workers
    must see the same order. The global batch stays `--batch-size`, whatever the number of workers. Whatever
    built it, a dataset `fit` reads also runs without tf.data's autotuning (`keras_apps.data.autotune`).
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return without_autotune(dataset.with_options(options))


def _local_copy(build_model, model, config, loss, metrics, weighted_metrics):
    """A copy of a cluster-trained `model` that lives on this worker alone, compiled alike for evaluation.

    The trained model's variables and steps belong to the cluster: evaluating or exporting with it on the chief
    alone would wait forever for the other workers.
    """
    copy = build_in_precision(build_model, config.precision)
    copy.set_weights(model.get_weights())
    return compiled_for_evaluation(copy, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics,
                                   jit_compile=config.jit_compile)


def compiled_for_evaluation(model, *, loss, metrics=(), weighted_metrics=(), jit_compile=False):
    """`model` compiled with the training's loss and new copies of its metrics, no optimizer: for `evaluate`."""
    model.compile(loss=loss, metrics=_fresh(metrics), weighted_metrics=_fresh(weighted_metrics),
                  jit_compile=jit_compile)
    return model


def _fresh(metrics):
    """New copies of metric objects (a list, or a dict of lists by output), made in the scope that will use them.

    A Keras metric makes its variables when it is made: one made outside the strategy's scope is not shared
    among replicas, and on a cluster each worker would count only its own share of the batches.
    """
    if isinstance(metrics, dict):  # a model of several outputs: the metrics of each
        return {output: _fresh(chosen) for output, chosen in metrics.items()}
    return [type(metric).from_config(metric.get_config()) if isinstance(metric, keras.metrics.Metric) else metric
            for metric in metrics]


def _supported(config, strategy, model):
    """`config`, less what TensorFlow cannot do for `model` under `strategy`, with a note for each change.

    XLA has no kernels for sparse tensors (IMDB's n-gram models) and compiles no cross-device collectives on
    CPUs (b/194942685: mirrored CPU replicas and CPU workers), and Keras 3.15's loop of several steps per
    execution fails with more than one replica ("You must feed a value for placeholder tensor"). These are
    speed settings only, so the run goes on without them.
    """
    changes = {}
    several = strategy.num_replicas_in_sync > 1
    if config.jit_compile and any(getattr(tensor, "sparse", False) for tensor in getattr(model, "inputs", ())):
        changes["jit_compile"] = False
        print("note: XLA cannot compile this model's sparse inputs; training without --jit-compile")
    elif config.jit_compile and several and all("CPU" in name.upper() for name in strategy.extended.worker_devices):
        changes["jit_compile"] = False
        print("note: XLA cannot compile collectives between CPU replicas; training without --jit-compile")
    if config.steps_per_execution > 1 and several:
        changes["steps_per_execution"] = 1
        print("note: with several replicas Keras runs one step per execution; --steps-per-execution set to 1")
    return replace(config, **changes)


def _ending_each_epoch(config, steps_per_epoch):
    """`config` with a number of steps per execution that divides an epoch's steps, with a note if it changes.

    Training reads one endless iterator (see `fit`) and Keras runs whole executions: 10 steps per execution
    would make an epoch of 25 steps run 30.
    """
    if steps_per_epoch % config.steps_per_execution == 0:
        return config
    steps = math.gcd(steps_per_epoch, config.steps_per_execution)
    print(f"note: an epoch of {steps_per_epoch} steps is not a multiple of --steps-per-execution "
          f"{config.steps_per_execution}; running {steps} per execution")
    return replace(config, steps_per_execution=steps)


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
        validation_dataset: batched dataset of the same structure, or None: then no checkpoint is "best", and
            training ends with the last epoch's weights (as PPO, whose every epoch is a new batch of rollouts).
        config: a `TrainingConfig`.
        run_directory: a `RunDirectory` (from `open_run_directory`); its backup makes a rerun resume.
        strategy: a `tf.distribute.Strategy` (see `keras_apps.training.strategy`).
        loss, metrics, weighted_metrics: passed to `compile` (weighted metrics use the datasets' sample
            weights, e.g. to count only the masked tokens).
        callbacks: the task's own callbacks, run after the runner's.
    """
    steps_per_epoch = int(train_dataset.cardinality())
    if steps_per_epoch < 1:
        raise ValueError("the training dataset must have a known, positive number of batches")
    compiled = dict(loss=loss, metrics=metrics, weighted_metrics=weighted_metrics)
    if run_directory.fit_record.exists():
        return _trained_earlier(build_model, run_directory, config, strategy, **compiled)
    train_dataset = shard_by_data(train_dataset)
    validation_dataset = None if validation_dataset is None else shard_by_data(validation_dataset)
    multi_worker = is_multi_worker(strategy)
    # Each training starts from its seed, whatever drew random numbers before it in this command: a resumed run
    # reads back what earlier stages made (a teacher's verdicts, a pre-trained backbone) without their draws, and
    # would otherwise build and drop out from another point of the stream than the uninterrupted run.
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = build_in_precision(build_model, config.precision)
        config = _ending_each_epoch(_supported(config, strategy, model), steps_per_epoch)
        if multi_worker:
            model = MultiWorkerModel(model.input, model.output, name=model.name)
        model.compile(
            optimizer=build_optimizer(config, steps_per_epoch, model),
            loss=loss,
            metrics=_fresh(metrics),
            weighted_metrics=_fresh(weighted_metrics),
            steps_per_execution=config.steps_per_execution,
            jit_compile=config.jit_compile,
        )
        _build_training_state(model, train_dataset)
    trainable_params = sum(int(math.prod(weight.shape)) for weight in model.trainable_weights)
    clock = TrainingClock(config.batch_size)
    is_chief, worker = worker_role(strategy)
    if multi_worker and not is_chief:
        _resume_with_the_chief(run_directory)
    if not run_directory.is_resumable:
        run_directory.discard_unfinished_training()
    ended_at = run_directory.ended_at_epoch()
    epochs = config.epochs if ended_at is None else ended_at
    callbacks = [*build_callbacks(config, run_directory, clock, is_chief=is_chief), *callbacks]
    # One iterator for the whole run: a new one each epoch would restart the random ops inside the pipeline
    # (masked-LM masks) from the same seeds, and every epoch would draw the same masks (tensorflow/tensorflow#35682).
    # A resumed run's passes over the batches its backup's epochs trained on, so that it goes on with the data an
    # uninterrupted run would (its shuffle, its masks), not with the first epoch's again.
    skipped = Backup.epochs_in(run_directory.backup) * steps_per_epoch if ended_at is None else 0
    if skipped:
        print(f"Passing over the {skipped:,} batches trained on before the interruption, to go on with the data "
              f"in the order an uninterrupted run would see it", flush=True)
    start = time.perf_counter()
    try:
        history = model.fit(
            train_dataset.repeat().skip(skipped),
            steps_per_epoch=steps_per_epoch,
            validation_data=validation_dataset,
            epochs=epochs,
            callbacks=callbacks,
            shuffle=False,  # The dataset shuffles itself; Keras cannot shuffle a tf.data.Dataset.
            verbose=1 if sys.stdout.isatty() else 2,
        )
    except (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.DeadlineExceededError) as exc:
        if not multi_worker:
            raise
        raise UserError(f"{worker}: lost contact with the cluster ({exc.message.splitlines()[0]}); restart every "
                        f"worker with the same command and --run-dir to resume from the last completed epoch") from exc
    train_seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if losses and not math.isfinite(losses[-1]):
        raise UserError(
            f"training diverged (the loss became {losses[-1]}) in epoch {history.epoch[-1] + 1}; "
            f"try a lower --learning-rate"
        )
    epochs_run = len(history.epoch)
    initial_epoch = history.epoch[0] if history.epoch else epochs
    measured = {"initial_epoch": initial_epoch, "train_seconds": train_seconds, "train_examples": clock.examples,
                "train_examples_per_second": clock.examples_per_second, "train_step_seconds": clock.step_seconds}
    if not epochs_run:
        measured = _measured_before(run_directory, measured)
    files.write_json(run_directory.training_ended, {"epochs": initial_epoch + epochs_run, **measured})
    if run_directory.best_model.exists():
        try:
            model.load_weights(run_directory.best_model)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise UserError(f"{run_directory.best_model} is damaged ({exc}); the run cannot restore its best "
                            f"epoch: start it in a new --run-dir") from None
    if multi_worker:
        model = _local_copy(build_model, model, config, loss, metrics, weighted_metrics)
    run_directory.plot_history()
    if not is_chief:
        print(f"{worker}: training done; the chief evaluates, exports and reports")
    result = FitResult(
        model=model,
        epochs_completed=initial_epoch + epochs_run,
        **measured,
        trainable_params=trainable_params,
        is_chief=is_chief,
        step_phases=clock.phases(),
    )
    result.save(run_directory)
    run_directory.clear_training_state()
    return result


def _measured_before(run_directory, measured):
    """The figures of the attempt that trained a run's last epochs and died before recording them in `fit.json`,
    kept with the end of its training (`training-ended.json`): a resume from there trains no epoch, and would
    report its training as 0 examples a second. `measured`, this attempt's own, where no such record is there."""
    path = run_directory.training_ended
    if not path.exists() or not set(measured) <= set(run_directory.read_record(path)):
        return measured
    types = FitResult.recorded()
    record = run_directory.read_record(path, keys={key: types[key] for key in measured})
    return {key: record[key] for key in measured}


def _build_training_state(model, dataset):
    """Creates the optimizer's slots and the metrics' variables before the first step, as Keras itself does
    under a distribution strategy but not under the default one. Created inside the first step's trace, they
    make `tf.function` trace the step a second time (a function that made variables is retraced without
    them): twice the tracing, and with XLA twice the compilation.

    Built here, the model needs none of the build Keras's `fit` does under a distribution strategy from a batch
    read by an iterator of its own, which it then drops: every iterator over a dataset that reshuffles draws the
    shuffle's next seed, and that one drew as many more as the epochs a resumed run passes over, so that a
    resumed run under `mirrored` went on with other batches than the uninterrupted run."""
    model._symbolic_build(data_batch=dataset.element_spec)  # noqa: SLF001 (Keras's own builder for this)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # noqa: SLF001


def _trained_earlier(build_model, run_directory, config, strategy, *, loss, metrics, weighted_metrics):
    """The `FitResult` an earlier attempt of this run recorded when its training ended (`FitResult.save`).

    The model is built and compiled as `fit` leaves it, with the trained weights: on a cluster, a copy on
    this worker alone, as after training.
    """
    record = run_directory.read_record(run_directory.fit_record, keys={**FitResult.recorded(), "jit_compile": bool})
    run_directory.clear_training_state()  # left by an attempt that died just after recording its training
    print(f"Training ended in an earlier attempt of this run ({record['epochs_completed']} epochs); "
          f"going on from its trained model")
    scope = contextlib.nullcontext() if is_multi_worker(strategy) else strategy.scope()
    with scope:
        model = build_in_precision(build_model, config.precision)
        try:
            model.load_weights(run_directory.trained_weights)
        except (OSError, ValueError) as exc:  # truncated or missing (a disk fault): one line, and how to go on
            raise UserError(f"cannot load the trained weights {run_directory.trained_weights} "
                            f"({str(exc).splitlines()[0]}); the run cannot go on from them: start it in a new "
                            f"--run-dir") from None
        compiled_for_evaluation(model, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics,
                                jit_compile=record.pop("jit_compile"))
    return FitResult(model=model, **record)
