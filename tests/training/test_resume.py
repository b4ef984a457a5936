"""A rerun of an interrupted run goes on as the uninterrupted run would, or stops in one line on a damaged record."""

import json
import signal

import keras
import pytest

from keras_apps.errors import UserError
from keras_apps.training import runner
from keras_apps.training.callbacks import BestCheckpoint
from keras_apps.training.run_directory import RunDirectory
from tests.conftest import run_python
from tests.training.helpers import InterruptMidEpoch, tiny_model
from tests.training.test_runner import Died, _dying_before_the_record, train_tiny


def test_a_killed_run_resumes_from_its_last_finished_epoch(tmp_path):
    run_dir = tmp_path / "run"
    killed = run_python("-m", "tests.training.interruptible_training", str(run_dir), "--kill-at-epoch", "1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run = RunDirectory(run_dir)
    assert [row["epoch"] for row in run.read_history()] == [0]
    assert run.is_resumable

    resumed = run_python("-m", "tests.training.interruptible_training", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads((run_dir / "result.json").read_text())
    assert result["initial_epoch"] == 1 and result["epochs_completed"] == 3
    # The optimizer state came back from the backup: it counts every step of all three epochs (4 each),
    # not only the two epochs this process ran.
    assert result["optimizer_iterations"] == 3 * 4
    assert [row["epoch"] for row in run.read_history()] == [0, 1, 2]
    assert not run.backup.exists()


class Interrupted(Exception):
    """A command killed in the middle of an epoch."""


def interrupt():
    raise Interrupted


class ScriptedValidationLoss(keras.callbacks.Callback):
    """Replaces each epoch's `val_loss` with `losses[epoch]` for every callback after it."""

    def __init__(self, losses):
        super().__init__()
        self.losses = losses

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.losses[epoch]


LOSSES = [1.0, 0.5, 0.7, 0.6, 0.8, 0.9]  # best after epoch 1; with a patience of 1, stops after epoch 2


def train_scripted(monkeypatch, run_dir, interrupt_in=None):
    with monkeypatch.context() as patch:
        scripted = [ScriptedValidationLoss(LOSSES)] + ([] if interrupt_in is None else
                                                        [InterruptMidEpoch(interrupt_in, interrupt)])
        patch.setattr(runner, "build_callbacks", lambda *args, build=runner.build_callbacks, **kwargs: [
            *scripted, *build(*args, **kwargs)])
        return train_tiny(run_dir, epochs=len(LOSSES), early_stopping_patience=1)


def test_a_resumed_run_stops_early_after_the_same_epoch_as_an_uninterrupted_one(tmp_path, monkeypatch):
    uninterrupted = train_scripted(monkeypatch, tmp_path / "uninterrupted")
    assert uninterrupted.epochs_completed == 3
    with pytest.raises(Interrupted):  # after its best epoch, before the one that ends the patience
        train_scripted(monkeypatch, tmp_path / "resumed", interrupt_in=2)
    resumed = train_scripted(monkeypatch, tmp_path / "resumed")
    assert resumed.initial_epoch == 2 and resumed.epochs_completed == uninterrupted.epochs_completed
    assert [row["epoch"] for row in RunDirectory(tmp_path / "resumed").read_history()] == [0, 1, 2]


def test_a_resumed_run_dying_after_training_counts_every_epoch_and_trains_none_again(tmp_path, monkeypatch, capsys):
    """The end of training records the epochs of every attempt, not only of the last: the epochs an earlier
    attempt trained are part of the count a rerun goes on from."""
    run = RunDirectory(tmp_path / "run")
    with monkeypatch.context() as patch, pytest.raises(Interrupted):
        patch.setattr(runner, "build_callbacks", lambda *args, build=runner.build_callbacks, **kwargs: [
            InterruptMidEpoch(1, interrupt), *build(*args, **kwargs)])
        train_tiny(run.path, epochs=3)
    with monkeypatch.context() as patch, pytest.raises(Died):
        _dying_before_the_record(patch)
        train_tiny(run.path, epochs=3)
    capsys.readouterr()
    result = train_tiny(run.path, epochs=3)
    assert "Epoch" not in capsys.readouterr().out  # not one more epoch trained
    assert result.epochs_completed == 3 and [row["epoch"] for row in run.read_history()] == [0, 1, 2]


@pytest.mark.parametrize("damaged", ['{"epo', '{"epoch": 1}', "[0.5]"])
def test_a_damaged_record_of_the_best_checkpoint_is_one_line(tmp_path, damaged):
    checkpoint = BestCheckpoint(tmp_path / "best.keras")
    checkpoint.set_model(tiny_model())
    (tmp_path / "best.keras").write_bytes(b"the best epoch's model")
    (tmp_path / "best.json").write_text(damaged)
    with pytest.raises(UserError, match=r"best.json (is damaged|lacks value|is not a JSON object).*start it in a "
                                        r"new --run-dir"):
        checkpoint.on_train_begin()


@pytest.mark.parametrize("strategy", ["cpu", "mirrored"])
def test_a_resumed_run_trains_on_the_batches_in_the_order_an_uninterrupted_one_would(tmp_path, monkeypatch, strategy):
    """Its data goes on from the interrupted epoch's order, not from the first epoch's again (the same shuffle,
    the same masks drawn in the pipeline), its dropout from the interrupted epoch's masks: the same weights as the
    uninterrupted run's. Under a distribution strategy too, where Keras's `fit` would read a batch of its own first."""
    import numpy as np

    from keras_apps.data.image_pipeline import image_dataset
    from tests.training import helpers, test_runner

    from keras_apps.models.convnet import build_convnet

    monkeypatch.setattr(test_runner, "tiny_datasets", lambda batch_size: (
        image_dataset(helpers.tiny_split(128), batch_size, shuffle=True, seed=0, drop_remainder=True),
        image_dataset(helpers.tiny_split(64, seed=1), batch_size)))
    # Dropout's masks too: its seeds' state is backed up with the weights.
    monkeypatch.setattr(test_runner, "tiny_model", lambda: build_convnet(num_classes=4, filters=(4,), dropout=0.5))
    uninterrupted = train_tiny(tmp_path / "uninterrupted", strategy, epochs=3, deterministic=True)
    with monkeypatch.context() as patch, pytest.raises(Interrupted):
        patch.setattr(runner, "build_callbacks", lambda *args, build=runner.build_callbacks, **kwargs: [
            InterruptMidEpoch(2, interrupt), *build(*args, **kwargs)])
        train_tiny(tmp_path / "resumed", strategy, epochs=3, deterministic=True)
    resumed = train_tiny(tmp_path / "resumed", strategy, epochs=3, deterministic=True)
    assert resumed.initial_epoch == 2
    for theirs, ours in zip(uninterrupted.model.weights, resumed.model.weights, strict=True):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-7)


def test_a_training_builds_the_same_model_whatever_drew_random_numbers_before_it(tmp_path):
    """A resumed run reads back what its earlier stages made (a teacher's verdicts, a pre-trained backbone) without
    drawing their random numbers: its next training started from another point of the stream, and trained another
    model than the uninterrupted run's (0.8125 against 0.5417 test accuracy, on a tiny IMDB student)."""
    import numpy as np
    import tensorflow as tf

    from keras_apps.training.config import TrainingConfig
    from keras_apps.training.strategy import select_strategy
    from tests.training.helpers import tiny_datasets
    from tests.training.test_runner import LOSS

    def trained(run_dir, draws_before):
        runner.seed_everything(0)  # once per command, as `start_run` seeds
        for _ in range(draws_before):  # an earlier stage's work: its initializers, its dropout, its shuffles
            keras.random.uniform((3,)), np.random.rand(3), tf.random.uniform((3,))
        train, validation = tiny_datasets(32)
        return runner.fit(tiny_model, train, validation, config=TrainingConfig(epochs=1, batch_size=32),
                          run_directory=RunDirectory.create("tiny", run_dir), strategy=select_strategy("cpu"),
                          loss=LOSS).model

    uninterrupted, resumed = trained(tmp_path / "a", draws_before=2), trained(tmp_path / "b", draws_before=0)
    for theirs, ours in zip(uninterrupted.weights, resumed.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
