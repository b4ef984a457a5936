"""The callbacks Keras does not have in the form we need; everything else is Keras's own."""

import json
import math
import statistics
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.training.run_directory import RunDirectory


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever the monitored metric improves, atomically, and remembers the best value.

    Keras's `ModelCheckpoint` writes in place (a kill mid-write leaves a broken file) and forgets its best
    value when a run resumes, so the first epoch after a resume would overwrite a better checkpoint. This
    one writes to a temporary file and renames it, and keeps the best value in a JSON file beside it.
    """

    def __init__(self, path, monitor="val_loss", mode="min"):
        super().__init__()
        self.path = Path(path)
        self.state_path = self.path.with_suffix(".json")
        self.monitor = monitor
        self.sign = 1.0 if mode == "min" else -1.0

    def on_train_begin(self, logs=None):
        self.best = math.inf
        if self.state_path.exists() and self.path.exists():
            self.best = self.sign * RunDirectory.read_record(self.state_path, keys={"value": float})["value"]

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(value) or self.sign * value >= self.best:
            return
        self.best = self.sign * value
        with files.atomic_path(self.path) as temporary:
            self.model.save(temporary)
        files.write_json(self.state_path, {"monitor": self.monitor, "value": float(value), "epoch": epoch})


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore`, each of its two files written whole or not at all.

    Keras writes the backup's weights in place: a Ctrl-C or a kill while they were saved left a truncated file,
    and the rerun stopped on it with a traceback where no earlier backup was kept (the first epoch's). Here each
    file goes to a temporary that is renamed over the last one, the epoch's record last: a command that dies between
    the renames (microseconds, where Keras's window was the whole save) redoes the epoch, never skips one.
    Keras reads the backup back (`on_train_begin`); one damaged since it was written is a one-line error.

    Keras backs up the weights, not the state of the model's random seeds (`model.variables` beyond its
    `weights`: dropout's), and a resumed run drew the first epoch's dropout masks again: this backup keeps them
    too (`seeds.npz`), so that a resumed run trains the model the uninterrupted run would."""

    def __init__(self, backup_dir):
        super().__init__(str(backup_dir), delete_checkpoint=False)  # kept after the last epoch: see the runner
        self._seeds_path = Path(backup_dir) / "seeds.npz"

    def on_train_begin(self, logs=None):
        remedy = f"delete {self.backup_dir} to train this run again from its first epoch"
        metadata = Path(self._training_metadata_path)
        if metadata.exists():  # Keras reads it unchecked
            RunDirectory.read_record(metadata, keys={"epoch": int}, remedy=remedy)
        try:
            super().on_train_begin(logs)
            if self._seeds_path.exists() and metadata.exists():
                with np.load(self._seeds_path) as saved:
                    for index, seed in enumerate(self._seeds()):
                        seed.assign(saved[str(index)])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # damaged on disk since
            raise UserError(f"the backup in {self.backup_dir} is damaged ({str(exc).splitlines()[0]}); "
                            f"{remedy}") from None

    def _seeds(self):
        weights = {id(weight) for weight in self.model.weights}
        return [variable for variable in self.model.variables if id(variable) not in weights]

    @staticmethod
    def epochs_in(backup_dir):
        """The epochs the backup in `backup_dir` was saved after: 0 for none, or for one damaged, which
        `on_train_begin` then refuses in one line."""
        try:
            return int(json.loads((Path(backup_dir) / "training_metadata.json").read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def _save_model(self):
        files.write_weights(self.model, self._weights_path)
        with files.atomic_path(self._seeds_path) as temporary, open(temporary, "wb") as handle:
            np.savez(handle, **{str(index): np.asarray(seed) for index, seed in enumerate(self._seeds())})
        files.write_json(self._training_metadata_path, {"epoch": self._current_epoch, "batch": self._last_batch_seen})


class HistoryFromResume(keras.callbacks.Callback):
    """Before a training's first epoch, drops the rows `history.csv` holds of that epoch and later ones
    (`RunDirectory.keep_history_before`): an attempt killed after recording an epoch but before backing it up
    redoes it, and the file keeps one row per epoch."""

    def __init__(self, run_directory):
        super().__init__()
        self.run_directory = run_directory
        self._started = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self._started:
            self._started = True
            self.run_directory.keep_history_before(epoch)


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's `EarlyStopping`, which a resumed run starts where the interrupted attempt left it.

    Keras's keeps its best value and its count of epochs since in memory only: resumed afresh, a run killed after
    its best epoch would take the next, worse epoch for an improvement and train epochs an uninterrupted run
    would not. Before its first epoch, this one replays the monitored values `history.csv` holds of the epochs
    before it (`RunDirectory.read_history`), so that both stop after the same epoch."""

    def __init__(self, run_directory, **kwargs):
        super().__init__(**kwargs)
        self.run_directory = run_directory

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._replayed = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._replayed:
            return
        self._replayed = True
        for row in self.run_directory.read_history():
            if row["epoch"] < epoch and self.monitor in row:
                self.on_epoch_end(int(row["epoch"]), {self.monitor: row[self.monitor]})


class TrainingClock(keras.callbacks.Callback):
    """Measures time spent in training steps alone (not validation, not epoch-end callbacks).

    Each epoch is timed from the start of its first training batch to the end of its last, so that work at the
    epoch's start (PPO's rollouts, other callbacks') is not a step's time; the throughput figure of `metrics.json`
    and the benchmarks is `examples / seconds` over all epochs, compilation included.

    The steady step time leaves compilation out: it is the median time per step of the calls into the
    training step after the fit's first `WARMUP_STEPS` steps (which trace and compile it). Keras turns each
    step's outputs into numbers before calling this, so a step's time includes the device's work.
    """

    WARMUP_STEPS = 10

    def __init__(self, batch_size):
        super().__init__()
        self.batch_size = batch_size
        self.seconds = 0.0
        self.steps = 0
        self._step_seconds = []
        self._warm_up_seconds = 0.0  # the calls into the warm-up steps, tracing and compiling included
        self._warm_up_steps = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = None
        self._epoch_steps = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._call_start = time.perf_counter()
        self._call_first_step = batch
        if self._epoch_start is None:
            self._epoch_start = self._call_start

    def on_train_batch_end(self, batch, logs=None):
        # With `steps_per_execution` > 1 Keras calls this once per execution, with the index of its last step.
        self._last_batch_end = time.perf_counter()
        call_steps, call_seconds = batch + 1 - self._call_first_step, self._last_batch_end - self._call_start
        if self.steps + self._epoch_steps >= self.WARMUP_STEPS:
            self._step_seconds.append(call_seconds / call_steps)
        else:
            self._warm_up_seconds += call_seconds
            self._warm_up_steps += call_steps
        self._epoch_steps = batch + 1

    def on_epoch_end(self, epoch, logs=None):
        if self._epoch_steps:  # an epoch with no batch (its data ran out) took no step's time
            self.seconds += self._last_batch_end - self._epoch_start
        self.steps += self._epoch_steps

    @property
    def examples(self):
        return self.steps * self.batch_size

    @property
    def examples_per_second(self):
        return self.examples / self.seconds if self.seconds else 0.0

    @property
    def step_seconds(self):
        """The median seconds per training step after the warm-up; None until a step after it."""
        return statistics.median(self._step_seconds) if self._step_seconds else None

    def phases(self):
        """The steps' seconds in two: "tracing and compilation", what the calls into the warm-up steps took beyond
        the steady step time (all of the steps' seconds when no step ran after the warm-up), and "training steps",
        the rest. Only the warm-up's excess is compilation: the steady steps' spread around their median, and the
        time between calls, belong to training."""
        if self.step_seconds is None:
            compiling = self.seconds
        else:
            compiling = min(max(self._warm_up_seconds - self._warm_up_steps * self.step_seconds, 0.0), self.seconds)
        return {"tracing and compilation": compiling, "training steps": self.seconds - compiling}
