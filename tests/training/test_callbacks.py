import json
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_apps.errors import UserError
from keras_apps.training import callbacks
from keras_apps.training.callbacks import BestCheckpoint, TrainingClock
from tests.training.helpers import tiny_model


def attach(callback):
    model = tiny_model()
    callback.set_model(model)
    return model


def test_best_checkpoint_saves_only_improvements(tmp_path):
    checkpoint = BestCheckpoint(tmp_path / "best.keras", monitor="val_loss")
    model = attach(checkpoint)
    checkpoint.on_train_begin()
    checkpoint.on_epoch_end(0, {"val_loss": 0.5})
    saved = [w.numpy().copy() for w in model.weights]
    model.get_layer("logits").kernel.assign(np.zeros_like(model.get_layer("logits").kernel.numpy()))
    checkpoint.on_epoch_end(1, {"val_loss": 0.7})  # worse: the file keeps epoch 0's weights
    restored = keras.saving.load_model(tmp_path / "best.keras")
    for expected, actual in zip(saved, restored.weights):
        np.testing.assert_array_equal(expected, actual.numpy())
    assert json.loads((tmp_path / "best.json").read_text()) == {"monitor": "val_loss", "value": 0.5, "epoch": 0}


def test_best_checkpoint_remembers_the_best_value_across_a_resume(tmp_path):
    first = BestCheckpoint(tmp_path / "best.keras")
    attach(first)
    first.on_train_begin()
    first.on_epoch_end(0, {"val_loss": 0.2})
    before = (tmp_path / "best.keras").stat().st_mtime_ns

    resumed = BestCheckpoint(tmp_path / "best.keras")  # a new process after a crash
    attach(resumed)
    resumed.on_train_begin()
    resumed.on_epoch_end(1, {"val_loss": 0.3})
    assert (tmp_path / "best.keras").stat().st_mtime_ns == before
    resumed.on_epoch_end(2, {"val_loss": 0.1})
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == 2


def test_best_checkpoint_in_max_mode_and_ignores_nan(tmp_path):
    checkpoint = BestCheckpoint(tmp_path / "best.keras", monitor="val_accuracy", mode="max")
    attach(checkpoint)
    checkpoint.on_train_begin()
    checkpoint.on_epoch_end(0, {"val_accuracy": float("nan")})
    assert not (tmp_path / "best.keras").exists()
    checkpoint.on_epoch_end(1, {"val_accuracy": 0.6})
    checkpoint.on_epoch_end(2, {"val_accuracy": 0.4})
    assert json.loads((tmp_path / "best.json").read_text())["value"] == 0.6


def attach_compiled(callback):
    model = attach(callback)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def interrupted_save(filepath, *args, **kwargs):
    """What a Ctrl-C in the middle of writing a model's weights leaves."""
    Path(filepath).write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    raise KeyboardInterrupt


def test_a_backup_interrupted_while_saving_leaves_the_last_one_whole(tmp_path, monkeypatch):
    backup = callbacks.Backup(tmp_path / "backup")
    model = attach_compiled(backup)
    with monkeypatch.context() as patch:  # the first epoch's backup: none was kept before it
        patch.setattr(model, "save_weights", interrupted_save)
        with pytest.raises(KeyboardInterrupt):
            backup.on_epoch_end(0)
    resumed = callbacks.Backup(tmp_path / "backup")  # the rerun starts afresh, rather than stopping on the file
    attach_compiled(resumed).fit(np.zeros((4, 28, 28), np.uint8), np.zeros(4), epochs=1, verbose=0,
                                 callbacks=[resumed])

    backup.on_epoch_end(1)
    saved = [weight.numpy().copy() for weight in model.weights]
    monkeypatch.setattr(model, "save_weights", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        backup.on_epoch_end(2)
    assert sorted(path.name for path in (tmp_path / "backup").iterdir()) == [
        "latest.weights.h5", "seeds.npz", "training_metadata.json"]
    resumed = callbacks.Backup(tmp_path / "backup")  # the rerun, in a new process: a model freshly drawn
    model = attach_compiled(resumed)
    resumed.on_train_begin()
    assert model._initial_epoch == 2
    for expected, actual in zip(saved, model.weights):
        np.testing.assert_array_equal(expected, actual.numpy())

    (tmp_path / "backup" / "latest.weights.h5").write_bytes(b"damaged since")  # by something else than a save
    resumed = callbacks.Backup(tmp_path / "backup")
    attach_compiled(resumed)
    with pytest.raises(UserError, match=r"backup is damaged \(.*\); delete .*backup to train this run again"):
        resumed.on_train_begin()


def test_training_clock_counts_steps_and_examples():
    clock = TrainingClock(batch_size=8)
    for epoch in range(2):
        clock.on_epoch_begin(epoch)
        for batch in range(3):
            clock.on_train_batch_begin(batch)
            clock.on_train_batch_end(batch)
        clock.on_epoch_end(epoch)
    assert clock.steps == 6 and clock.examples == 48
    assert clock.seconds > 0 and clock.examples_per_second == 48 / clock.seconds


def test_training_clock_counts_every_step_of_multi_step_executions():
    clock = TrainingClock(batch_size=8)
    clock.on_epoch_begin(0)
    for first_step, last_step in ((0, 3), (4, 7), (8, 9)):  # steps_per_execution=4 over 10 steps
        clock.on_train_batch_begin(first_step)
        clock.on_train_batch_end(last_step)
    clock.on_epoch_end(0)
    assert clock.steps == 10


class FakeTime:
    """A `time.perf_counter` that moves only when told to."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake_time(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(callbacks.time, "perf_counter", fake)
    return fake


def run_steps(clock, fake_time, executions):
    """Feeds `clock` one epoch of `(first step, last step, seconds)` calls into the training step."""
    clock.on_epoch_begin(0)
    for first_step, last_step, seconds in executions:
        clock.on_train_batch_begin(first_step)
        fake_time.now += seconds
        clock.on_train_batch_end(last_step)
        fake_time.now += 0.5  # other callbacks, between calls: not a step's time
    clock.on_epoch_end(0, {"loss": 1.0})


def test_training_clock_leaves_out_the_work_before_an_epochs_first_step(fake_time):
    """Callbacks after the clock's `on_epoch_begin` (PPO's rollouts) run before the epoch's first step: not a
    step's time, nor the throughput's."""
    clock = TrainingClock(batch_size=8)
    for epoch in range(2):
        clock.on_epoch_begin(epoch)
        fake_time.now += 20.0  # the epoch's rollouts
        clock.on_train_batch_begin(0)
        fake_time.now += 1.0
        clock.on_train_batch_end(0)
        clock.on_epoch_end(epoch)
    assert clock.seconds == pytest.approx(2.0) and clock.examples_per_second == pytest.approx(8.0)


def test_training_clock_step_time_leaves_out_the_warm_up_steps(fake_time):
    clock = TrainingClock(batch_size=8)
    compiling = [(step, step, 3.0) for step in range(TrainingClock.WARMUP_STEPS)]
    steady = [(step, step, 0.1) for step in range(TrainingClock.WARMUP_STEPS, 15)] + [(15, 15, 0.3)]
    run_steps(clock, fake_time, compiling + steady)
    assert clock.step_seconds == pytest.approx(0.1)


def test_training_clock_step_time_divides_multi_step_executions(fake_time):
    clock = TrainingClock(batch_size=8)
    run_steps(clock, fake_time, [(0, 9, 30.0), (10, 19, 2.0), (20, 29, 2.0), (30, 34, 1.5)])  # 10 steps a call
    assert clock.step_seconds == pytest.approx(0.2)


def test_training_clock_has_no_step_time_within_the_warm_up(fake_time):
    clock = TrainingClock(batch_size=8)
    run_steps(clock, fake_time, [(step, step, 1.0) for step in range(TrainingClock.WARMUP_STEPS)])
    assert clock.step_seconds is None


def test_training_clock_counts_as_compilation_only_what_the_warm_up_took_beyond_the_steady_step(fake_time):
    """A contended machine's steps spread around their median, and other callbacks run between them: neither
    is compilation."""
    clock = TrainingClock(batch_size=8)
    warm_up = [(0, 0, 2.0)] + [(step, step, 0.3) for step in range(1, TrainingClock.WARMUP_STEPS)]
    steady = [(step, step, 0.3 if step % 3 else 0.05) for step in range(TrainingClock.WARMUP_STEPS, 211)]
    run_steps(clock, fake_time, warm_up + steady)
    phases = clock.phases()
    assert phases["tracing and compilation"] == pytest.approx(1.7)
    assert sum(phases.values()) == pytest.approx(clock.seconds)


def test_training_clock_counts_everything_as_compilation_without_a_steady_step(fake_time):
    clock = TrainingClock(batch_size=8)
    run_steps(clock, fake_time, [(step, step, 1.0) for step in range(TrainingClock.WARMUP_STEPS)])
    assert clock.phases() == {"tracing and compilation": clock.seconds, "training steps": 0.0}



@pytest.mark.parametrize("value", ['"low"', "null", "true"])
def test_a_best_value_that_is_no_number_is_one_line(tmp_path, value):
    first = BestCheckpoint(tmp_path / "best.keras")
    attach(first)
    first.on_train_begin()
    first.on_epoch_end(0, {"val_loss": 0.2})
    (tmp_path / "best.json").write_text(f'{{"monitor": "val_loss", "value": {value}, "epoch": 0}}')
    resumed = BestCheckpoint(tmp_path / "best.keras")
    attach(resumed)
    with pytest.raises(UserError, match=r"best.json holds value=.* \(not float\); the run cannot go on from it"):
        resumed.on_train_begin()


def cut_in_half(path):
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


@pytest.mark.parametrize("file, damage, problem", [
    ("seeds.npz", cut_in_half, r"the backup in .* is damaged \(File is not a zip file\); "),
    ("seeds.npz", lambda path: path.write_bytes(b""), r"the backup in .* is damaged \(No data left in file\); "),
    ("training_metadata.json", lambda path: path.write_text("[1, 2]"), "training_metadata.json is not a JSON object; "),
    ("training_metadata.json", lambda path: path.write_text('{"epoch": "two", "batch": 0}'),
     r"training_metadata.json holds epoch='two' \(not int\); "),
])
def test_a_backup_damaged_since_it_was_saved_is_one_line(tmp_path, file, damage, problem):
    backup = callbacks.Backup(tmp_path / "backup")
    attach_compiled(backup)
    backup.on_epoch_end(0)
    damage(tmp_path / "backup" / file)
    resumed = callbacks.Backup(tmp_path / "backup")
    attach_compiled(resumed)
    with pytest.raises(UserError, match=f"{problem}.*delete .*backup to train this run again from its first epoch"):
        resumed.on_train_begin()
