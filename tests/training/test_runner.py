import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.training import runner
from keras_apps.training.config import TrainingConfig
from keras_apps.training.run_directory import RunDirectory
from keras_apps.training.runner import _resume_with_the_chief, build_optimizer, fit, learning_rate, seed_everything
from keras_apps.training.strategy import select_strategy
from tests.training.helpers import tiny_datasets, tiny_model

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def train_tiny(run_dir, strategy_name="cpu", **overrides):
    config = TrainingConfig(**{"epochs": 2, "batch_size": 32, "learning_rate": 3e-3, "strategy": strategy_name,
                               **overrides})
    seed_everything(config.seed)
    train, validation = tiny_datasets(config.batch_size)
    return fit(tiny_model, train, validation, config=config, run_directory=RunDirectory.create("tiny", run_dir),
               strategy=select_strategy(strategy_name), loss=LOSS, metrics=["accuracy"])


def test_fit_trains_and_records_the_run(tmp_path):
    result = train_tiny(tmp_path / "run", epochs=3)
    run = RunDirectory(tmp_path / "run")
    history = run.read_history()
    assert [row["epoch"] for row in history] == [0, 1, 2]
    assert history[-1]["loss"] < history[0]["loss"]
    assert {"accuracy", "val_accuracy", "val_loss"} <= set(history[0])
    assert run.curves.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.best_model.exists() and any(run.tensorboard.rglob("events.out.tfevents*"))
    assert not run.backup.exists()  # a finished run leaves no backup behind
    assert result.epochs_completed == 3 and result.train_examples == 3 * 4 * 32
    assert result.train_examples_per_second > 0 and result.train_step_seconds > 0  # 12 steps: 2 past the warm-up
    assert result.trainable_params == sum(np.size(weight) for weight in result.model.trainable_weights) > 0


def test_the_training_step_is_traced_without_making_variables(tmp_path):
    """The optimizer's slots and the metrics' variables exist before the first step: made inside its trace, they
    would make `tf.function` trace (and XLA compile) the step twice."""
    made_while_tracing = []

    def record(next_creator, **kwargs):
        if tf.inside_function():
            made_while_tracing.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(record):
        train_tiny(tmp_path / "run", epochs=1)
    assert made_while_tracing == []


def test_tensorboard_gets_the_scalars_the_learning_rate_and_the_model_graph(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train_tiny(tmp_path / "run")
    tags = {}
    for split in ("train", "validation"):
        (events,) = (tmp_path / "run" / "tensorboard" / split).glob("events.out.tfevents*")
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags[split] = set(accumulator.Tags()["tensors"])
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "keras"} <= tags["train"]
    assert {"epoch_loss", "epoch_accuracy"} <= tags["validation"]


def test_best_checkpoint_is_what_the_model_ends_with(tmp_path):
    result = train_tiny(tmp_path / "run", epochs=3)
    run = RunDirectory(tmp_path / "run")
    best = json.loads(run.best_model.with_suffix(".json").read_text())
    assert best["value"] == pytest.approx(min(row["val_loss"] for row in run.read_history()), rel=1e-5)
    restored = keras.saving.load_model(run.best_model)
    for mine, theirs in zip(result.model.weights, restored.weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy())


def test_mirrored_on_two_cpus_follows_the_single_device_loss(tmp_path):
    one = train_tiny(tmp_path / "one", "cpu", epochs=3, lr_schedule="constant")
    two = train_tiny(tmp_path / "two", "mirrored", epochs=3, lr_schedule="constant")
    one_losses = [row["loss"] for row in RunDirectory(tmp_path / "one").read_history()]
    two_losses = [row["loss"] for row in RunDirectory(tmp_path / "two").read_history()]
    np.testing.assert_allclose(two_losses, one_losses, rtol=1e-4)
    assert two.train_examples == one.train_examples


def test_cosine_schedule_warms_up_then_decays():
    schedule = learning_rate(TrainingConfig(epochs=10, learning_rate=1.0, warmup_fraction=0.1), steps_per_epoch=10)
    values = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    assert values[0] == 0.0 and values[1] == pytest.approx(0.5) and values[2] == pytest.approx(1.0)
    assert 0.0 < values[3] < 1.0 and values[4] == pytest.approx(0.0, abs=1e-6)
    assert learning_rate(TrainingConfig(lr_schedule="constant", learning_rate=0.1), 10) == 0.1


def test_cosine_can_end_at_a_fraction_of_the_peak():
    schedule = learning_rate(TrainingConfig(epochs=10, learning_rate=1e-3, min_lr_fraction=0.1), steps_per_epoch=10)
    assert float(schedule(100)) == pytest.approx(1e-4)


def test_weight_decay_spares_biases_and_normalization():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.LayerNormalization()])
    optimizer = build_optimizer(TrainingConfig(weight_decay=0.1), 10, model)
    kernel, bias, gamma, beta = model.trainable_variables
    assert optimizer._use_weight_decay(kernel)
    assert not any(optimizer._use_weight_decay(variable) for variable in (bias, gamma, beta))


def test_a_mixed_precision_run_computes_in_bfloat16_and_leaves_the_global_policy(tmp_path):
    result = train_tiny(tmp_path / "run", epochs=1, precision="mixed_bfloat16")
    assert result.model.compute_dtype == "bfloat16" and result.model.weights[0].dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_mixed_float16_trains_with_dynamic_loss_scaling(tmp_path):
    result = train_tiny(tmp_path / "run", epochs=1, precision="mixed_float16")
    assert isinstance(result.model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert result.model.compute_dtype == "float16"
    assert all(np.isfinite(row["loss"]) for row in RunDirectory(tmp_path / "run").read_history())


def test_diverging_training_is_reported(tmp_path):
    from keras_apps.errors import UserError

    with pytest.raises(UserError, match="diverged"):
        train_tiny(tmp_path / "run", learning_rate=1e30, lr_schedule="constant")


def test_several_steps_per_execution_train_the_same_number_of_examples(tmp_path):
    result = train_tiny(tmp_path / "run", epochs=2, steps_per_execution=2)
    assert result.train_examples == 2 * 4 * 32
    assert int(result.model.optimizer.iterations.numpy()) == 2 * 4


def test_steps_per_execution_that_do_not_divide_an_epoch_are_lowered_to_a_divisor(tmp_path, capsys):
    result = train_tiny(tmp_path / "run", epochs=2, steps_per_execution=3)  # 4 steps an epoch
    assert int(result.model.optimizer.iterations.numpy()) == 2 * 4 and result.train_examples == 2 * 4 * 32
    assert "running 1 per execution" in capsys.readouterr().out


def test_random_ops_in_the_training_pipeline_draw_afresh_every_epoch(tmp_path):
    """With a global seed set, a new iterator each epoch would replay the same draws (tensorflow#35682)."""
    seen = []

    def draw(images, labels):
        noise = tf.py_function(lambda value: seen.append(float(value)) or value, [tf.random.uniform([])], tf.float32)
        return images + tf.cast(0.0 * tf.ensure_shape(noise, []), images.dtype), labels

    config = TrainingConfig(epochs=2, batch_size=32, strategy="cpu")
    seed_everything(config.seed)
    train, validation = tiny_datasets(config.batch_size)
    fit(tiny_model, train.map(draw), validation, config=config, run_directory=RunDirectory.create("tiny", tmp_path),
        strategy=select_strategy("cpu"), loss=LOSS)
    assert len(seen) >= 8 and seen[:4] != seen[4:8]  # 4 batches an epoch


def test_the_same_seed_trains_the_same_model(tmp_path):
    first = train_tiny(tmp_path / "first", epochs=1, seed=7)
    second = train_tiny(tmp_path / "second", epochs=1, seed=7)
    for mine, theirs in zip(first.model.weights, second.model.weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_what_several_cpu_replicas_cannot_run_is_left_out_and_training_goes_on(tmp_path, capsys):
    result = train_tiny(tmp_path / "run", "mirrored", epochs=1, jit_compile=True, steps_per_execution=2)
    assert result.epochs_completed == 1 and not result.model.jit_compile
    notes = capsys.readouterr().out
    assert "XLA cannot compile collectives between CPU replicas" in notes and "one step per execution" in notes


def test_xla_is_left_out_for_a_model_with_sparse_inputs(capsys):
    import tensorflow as tf

    from keras_apps.models.bow import build_bow_classifier
    from keras_apps.training.runner import _supported

    config = TrainingConfig(jit_compile=True)
    sparse, dense = build_bow_classifier(30, sparse=True), build_bow_classifier(30)
    assert not _supported(config, tf.distribute.get_strategy(), sparse).jit_compile
    assert "sparse inputs" in capsys.readouterr().out
    assert _supported(config, tf.distribute.get_strategy(), dense).jit_compile


@pytest.mark.parametrize("inside", ["", "pretraining"])
def test_a_worker_resumes_from_the_chiefs_backup_where_it_can_reach_it(tmp_path, inside):
    chief = RunDirectory(tmp_path / "run" / inside)
    worker = RunDirectory(tmp_path / "run" / "workers" / "worker-1" / inside)
    for run, epoch in [(chief, 3), (worker, 2)]:  # the worker was killed before it saved epoch 3
        run.backup.mkdir(parents=True)
        (run.backup / "training_metadata.json").write_text(json.dumps({"epoch": epoch}))
    _resume_with_the_chief(worker)
    assert json.loads((worker.backup / "training_metadata.json").read_text()) == {"epoch": 3}
    assert [path.name for path in worker.path.iterdir()] == ["backup"]
    _resume_with_the_chief(chief)  # the chief keeps its own
    assert json.loads((chief.backup / "training_metadata.json").read_text()) == {"epoch": 3}


def test_a_worker_out_of_reach_of_the_chiefs_backup_keeps_its_own(tmp_path):
    worker = RunDirectory(tmp_path / "run" / "workers" / "worker-1")
    worker.backup.mkdir(parents=True)
    (worker.backup / "training_metadata.json").write_text(json.dumps({"epoch": 2}))
    _resume_with_the_chief(worker)
    assert json.loads((worker.backup / "training_metadata.json").read_text()) == {"epoch": 2}


def test_a_run_whose_training_ended_is_not_trained_again(tmp_path, capsys):
    first = train_tiny(tmp_path / "run", epochs=2)
    run = RunDirectory(tmp_path / "run")
    assert run.fit_record.exists() and run.trained_weights.exists()
    again = train_tiny(tmp_path / "run", epochs=2)  # as a rerun after a kill between training and export
    assert "Training ended in an earlier attempt" in capsys.readouterr().out
    assert [row["epoch"] for row in run.read_history()] == [0, 1]
    assert (again.epochs_completed, again.train_examples, again.train_seconds, again.trainable_params) == (
        first.epochs_completed, first.train_examples, first.train_seconds, first.trainable_params)
    for mine, theirs in zip(first.model.weights, again.model.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    scores = again.model.evaluate(tiny_datasets(32)[1], return_dict=True, verbose=0)
    assert scores["accuracy"] == pytest.approx(first.model.evaluate(tiny_datasets(32)[1], return_dict=True,
                                                                    verbose=0)["accuracy"])


class Died(Exception):
    """A command dying between the end of `fit` and the record of its training (a kill, a full disk)."""


def die(*args, **kwargs):
    raise Died


def _dying_before_the_record(monkeypatch):
    monkeypatch.setattr(runner.FitResult, "save", die)


class StopAfter(keras.callbacks.Callback):
    """Ends training after `epochs` epochs, as early stopping does."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = epoch + 1 >= self.epochs


@pytest.mark.parametrize("stopped_after", [None, 2])
def test_a_run_that_died_after_training_ended_resumes_without_training_again(tmp_path, monkeypatch, capsys,
                                                                              stopped_after):
    """Keras deletes its backup when training ends; ours is kept until `fit.json` is written, and the end of
    training is marked, so a rerun neither starts over from the first epoch nor trains past an early stop."""
    run = RunDirectory(tmp_path / "run")
    with monkeypatch.context() as patch:
        _dying_before_the_record(patch)
        stopping = [StopAfter(stopped_after)] if stopped_after else []
        patch.setattr(runner, "build_callbacks", lambda *args, build=runner.build_callbacks, **kwargs: [
            *build(*args, **kwargs), *stopping])
        with pytest.raises(Died):
            train_tiny(run.path, epochs=3)
    trained = [0, 1, 2][:stopped_after]
    assert [row["epoch"] for row in run.read_history()] == trained and not run.fit_record.exists()
    assert run.is_resumable
    capsys.readouterr()
    result = train_tiny(run.path, epochs=3)
    assert "Epoch" not in capsys.readouterr().out  # not one more epoch trained
    assert [row["epoch"] for row in run.read_history()] == trained
    assert result.epochs_completed == len(trained) and run.fit_record.exists()
    assert not run.backup.exists() and not run.training_ended.exists()
    keras.saving.load_model(run.best_model)  # the best epoch's checkpoint, kept
    # The figures are the dead attempt's, which trained every epoch: not the zeros of this one, which trained none.
    assert result.initial_epoch == 0 and result.train_examples == 4 * 32 * len(trained)
    assert result.train_seconds > 0 and result.train_examples_per_second > 0


def test_a_run_that_died_after_recording_its_training_leaves_no_backup_once_rerun(tmp_path, monkeypatch, capsys):
    """A rerun that goes on from `fit.json` drops the backup the dead attempt kept: the finished run leaves none."""
    run = RunDirectory(tmp_path / "run")
    with monkeypatch.context() as patch:
        patch.setattr(RunDirectory, "clear_training_state", die)  # just after fit.json is written
        with pytest.raises(Died):
            train_tiny(run.path, epochs=2)
    assert run.fit_record.exists() and run.backup.exists() and run.training_ended.exists()
    result = train_tiny(run.path, epochs=2)
    assert "Training ended in an earlier attempt" in capsys.readouterr().out and result.epochs_completed == 2
    assert not run.backup.exists() and not run.training_ended.exists()


@pytest.mark.parametrize("record, problem", [('{"epochs_comp', "is damaged "),
                                             ('{"epochs_completed": 2}', "lacks initial_epoch, .*jit_compile; ")])
def test_a_damaged_or_incomplete_record_of_training_is_one_line(tmp_path, record, problem):
    train_tiny(tmp_path / "run", epochs=1)
    run = RunDirectory(tmp_path / "run")
    run.fit_record.write_text(record)
    with pytest.raises(UserError, match=f"fit.json {problem}.*start it in a new --run-dir"):
        train_tiny(run.path, epochs=1)


@pytest.mark.parametrize("edit, shown", [({"train_seconds": None}, r"train_seconds=None \(not float\)"),
                                         ({"epochs_completed": "two"}, r"epochs_completed='two' \(not int\)")])
def test_a_record_of_training_with_a_value_of_another_type_is_refused_before_evaluation(tmp_path, edit, shown):
    """Read back as it was, the value would stop the command with a TypeError once the test set was evaluated."""
    train_tiny(tmp_path / "run", epochs=1)
    run = RunDirectory(tmp_path / "run")
    run.fit_record.write_text(json.dumps({**json.loads(run.fit_record.read_text()), **edit}))
    with pytest.raises(UserError, match=f"fit.json holds {shown}; the run cannot go on from it: start it in a new"):
        train_tiny(run.path, epochs=1)


def test_damaged_or_missing_trained_weights_are_one_line(tmp_path):
    train_tiny(tmp_path / "run", epochs=1)
    run = RunDirectory(tmp_path / "run")
    kept = run.trained_weights.read_bytes()
    for damage in (lambda: run.trained_weights.write_bytes(kept[:len(kept) // 2]), run.trained_weights.unlink):
        damage()
        with pytest.raises(UserError, match=r"cannot load the trained weights .*trained.weights.h5 .*start it in a "
                                            r"new --run-dir"):
            train_tiny(run.path, epochs=1)


def test_a_new_start_discards_the_epochs_of_an_attempt_that_left_no_backup(tmp_path):
    run = RunDirectory.create("tiny", tmp_path / "run")
    run.history.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.1,9.0,0.1,9.0\n1,0.1,9.0,0.1,9.0\n")
    run.best_model.write_bytes(b"a checkpoint of the earlier attempt")
    train_tiny(tmp_path / "run", epochs=2)
    history = run.read_history()
    assert [row["epoch"] for row in history] == [0, 1] and history[0]["loss"] < 9.0
    keras.saving.load_model(run.best_model)  # this attempt's checkpoint, not the earlier bytes


def test_history_reads_metrics_keras_could_not_compute_as_nan(tmp_path):
    run = RunDirectory.create("tiny", tmp_path / "run")
    run.history.write_text("epoch,loss,val_loss\n0,0.5,NA\n")
    (row,) = run.read_history()
    assert row["loss"] == 0.5 and np.isnan(row["val_loss"])
    run.plot_history()
    assert run.curves.is_file()


@pytest.mark.parametrize("damaged", ["1,0.4\n", "1,0.4,0.52,0,0.3,0.5\n", "1,0.4,lost\n"])
def test_a_damaged_history_is_one_line_naming_the_line(tmp_path, damaged):
    """Keras appends each epoch's row in place: a command killed mid-write can cut one short or run two together."""
    run = RunDirectory.create("tiny", tmp_path / "run")
    run.history.write_text("epoch,loss,val_loss\n0,0.5,0.6\n" + damaged)
    with pytest.raises(UserError, match=r"history.csv is damaged at line 3: mend or delete that line, then rerun"):
        run.read_history()


class DieAtTheEndOf(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Died


def _dying_beside_the_backup(where):
    """`build_callbacks` with a callback that dies at the end of the second epoch just `where` ("before",
    "after") the backup's."""
    def build(*args, build_callbacks=runner.build_callbacks, **kwargs):
        callbacks = build_callbacks(*args, **kwargs)
        at = next(index for index, callback in enumerate(callbacks)
                  if isinstance(callback, keras.callbacks.BackupAndRestore)) + (where == "after")
        return [*callbacks[:at], DieAtTheEndOf(1), *callbacks[at:]]

    return build


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_command_dying_at_an_epochs_end_leaves_one_history_row_per_epoch(tmp_path, monkeypatch, where):
    """The backup commits an epoch, after what the epoch records: dying before it, the rerun redoes the epoch and
    its row is written once; dying after it, the epoch's row was already written."""
    run = RunDirectory(tmp_path / "run")
    with monkeypatch.context() as patch:
        patch.setattr(runner, "build_callbacks", _dying_beside_the_backup(where))
        with pytest.raises(Died):
            train_tiny(run.path, epochs=3)
    assert [row["epoch"] for row in run.read_history()] == [0, 1] and run.is_resumable
    train_tiny(run.path, epochs=3)
    assert [row["epoch"] for row in run.read_history()] == [0, 1, 2]


def test_the_history_is_cut_before_the_epochs_to_redo_and_a_row_cut_short(tmp_path):
    run = RunDirectory.create("tiny", tmp_path / "run")
    run.history.write_text("epoch,loss\n0,0.5\n1,0.4\n2,0.3\n")
    run.keep_history_before(2)
    assert run.history.read_text() == "epoch,loss\n0,0.5\n1,0.4\n"
    run.history.write_text("epoch,loss\n0,0.5\n1,0.4\n2,0.")
    run.keep_history_before(5)
    assert run.history.read_text() == "epoch,loss\n0,0.5\n1,0.4\n"
