"""The run directory: everything one training run leaves behind, in one folder a person can open.

    runs/<task>/<timestamp>/
        config.json          the task's and the runner's configuration
        learned.json         the digest of each artifact the task learned once (`lifecycle.Run.learned_once`)
        history.csv          one row per epoch (appended across resumes)
        training_curves.png  loss and metrics per epoch, train and validation
        metrics.json         the final figures (see `keras_apps.training.metrics`)
        best.keras           the best model so far by the monitored validation metric
        tensorboard/         TensorBoard logs
        backup/              BackupAndRestore state until training's record (fit.json) is written
        training-ended.json  the epochs trained and their figures, from when `fit` returns until fit.json is written
        trained.weights.h5   the trained model's weights, once training has ended
        fit.json             training's figures, written last: a rerun goes straight to evaluation and export
        .lock                held by the command writing the folder (`RunDirectory.hold`)

A run is finished when `metrics.json` exists; until then a rerun with the same folder resumes it, from the
last finished epoch while training, and from the trained model after it.
"""

import csv
import datetime
import fcntl
import json
import math
import os
import shutil
import socket
from pathlib import Path
from types import UnionType
from typing import get_args

from keras_apps import files
from keras_apps.errors import UserError


# The folder of the training run this command opened (`runner.open_run_directory`): an interrupted command names
# it, since a rerun resumes only with it as --run-dir (a default folder is new each time). Cleared by `cli.run`.
OPENED_FOR_TRAINING = []
# The folder of the compression this command opened (`compress.reports.output_folder`): an interrupted one holds
# no report, and is made again, whole, only with it as --run-dir. Cleared by `cli.run`.
OPENED_FOR_COMPRESSION = []

# The folder of a run that holds its cluster's other workers' own folders (`runner.open_run_directory`).
WORKERS = "workers"

# The folders this process writes, each held until its command ends (`RunDirectory.hold`, `release_held`).
HELD = {}


def release_held():
    """Lets other commands write the folders this process held; `cli.run` calls it when a command ends (the
    system does it too when the process ends, however it ends)."""
    for handle in HELD.values():
        handle.close()
    HELD.clear()


class RunDirectory:
    """Paths of one run; creating it refuses to reuse a finished run's folder."""

    def __init__(self, path):
        self.path = Path(path)

    @classmethod
    def create(cls, task, run_dir=None, root="runs", *, hold=True):
        """A new `root/<task>/<timestamp>/`, or `run_dir`, which resumes the run left there if unfinished; held
        by this command (`hold`) unless it only reads the folder (a cluster's worker reads the chief's)."""
        if run_dir is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            run_dir = Path(root) / task / stamp
        run = cls(run_dir)
        run.check_reusable()
        run.path.mkdir(parents=True, exist_ok=True)
        return run.hold() if hold else run

    def hold(self):
        """Claims the folder for this command: another command given it while this one runs (a second terminal,
        a service restarted while the first process still trains) is refused in one line, instead of resuming a
        run that is still training and interleaving two runs' checkpoints and history. The claim is an advisory
        lock (`flock`) on `.lock`, dropped when the command ends (`release_held`) or its process dies."""
        key = self.path.resolve()
        if key in HELD:
            return self
        try:
            handle = open(self.path / ".lock", "a+")
        except OSError as exc:
            files.check_writable_directory(self.path, "--run-dir")  # says why in one line
            raise UserError(f"--run-dir {self.path}: cannot open its lock, .lock ({exc.strerror}); if no command "
                            "runs there, remove .lock or choose another --run-dir") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"--run-dir {self.path} is being written by a command still running ({holder}); "
                            f"wait for it to end, or choose another --run-dir") from None
        except OSError:  # storage that cannot lock (some network file systems): written unclaimed, as before
            handle.close()
            return self
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        HELD[key] = handle
        return self

    def check_reusable(self):
        """Refuses, in one line, a `--run-dir` that is not a folder or holds a finished run: asked before a
        command reads its data too, so that the mistake costs no time."""
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"--run-dir {self.path} exists and is not a directory")
        if self.metrics.exists():
            raise UserError(f"--run-dir {self.path} holds a finished run; choose another directory")

    def check_holds_a_run_or_nothing(self):
        """Refuses, in one line, a `--run-dir` that holds files but no run of this suite (no `config.json`): a
        project's folder, a home folder or an export folder given by mistake. A run that starts afresh in its
        folder empties it (`start_over`), and what a user keeps there is not the run's to delete. A `config.json`
        that is not a run's record (a project's own) is refused too; a damaged one is left to `Run.open` to name."""
        if self.config.exists():
            try:
                recorded = json.loads(self.config.read_text())
            except (OSError, UnicodeDecodeError, ValueError):
                return
            if not isinstance(recorded, dict) or "task" not in recorded:
                raise UserError(f"--run-dir {self.path} has a config.json that is not a run's; give a new or empty "
                                f"folder")
        elif foreign := files.entries_besides(self.path, (".lock", WORKERS)):
            raise UserError(f"--run-dir {self.path} holds files that are not a run's ({foreign}); give a new or empty "
                            f"folder")

    @property
    def config(self):
        return self.path / "config.json"

    @property
    def history(self):
        return self.path / "history.csv"

    @property
    def curves(self):
        return self.path / "training_curves.png"

    @property
    def metrics(self):
        return self.path / "metrics.json"

    @property
    def best_model(self):
        return self.path / "best.keras"

    @property
    def tensorboard(self):
        return self.path / "tensorboard"

    @property
    def backup(self):
        return self.path / "backup"

    @property
    def trained_weights(self):
        return self.path / "trained.weights.h5"

    @property
    def fit_record(self):
        return self.path / "fit.json"

    @property
    def learned(self):
        return self.path / "learned.json"

    @property
    def training_ended(self):
        return self.path / "training-ended.json"

    @property
    def is_resumable(self):
        return self.backup.is_dir() and any(self.backup.iterdir())

    def training_started(self):
        """Whether an attempt in this folder (or a stage's or a worker's folder inside it) began training: left its
        epochs' record, a checkpoint, a backup or logs. Before that, a run holds only its settings and what it
        learned from its data, which a start with other settings learns again."""
        started = {"history.csv", "best.keras", "backup", "tensorboard", "training-ended.json", "trained.weights.h5",
                   "fit.json"}
        return any(path.name in started for path in self.path.rglob("*"))

    def start_over(self):
        """Empties the folder for a run that starts afresh in it: all but its lock (held by this command) and its
        cluster's workers' folders (each worker, starting at the same time, decides for its own)."""
        for path in self.path.iterdir():
            if path.name not in (".lock", WORKERS):
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def discard_unfinished_training(self):
        """Removes the epochs' record and best checkpoint of an attempt that left no backup to resume from
        (killed before its first epoch ended), which a new start from epoch 1 must not append to or restore."""
        for path in (self.history, self.best_model, self.best_model.with_suffix(".json"), self.training_ended):
            path.unlink(missing_ok=True)

    def ended_at_epoch(self):
        """The epochs an earlier attempt trained before `fit` returned (None if none did): an attempt that died
        before recording its training resumes from its backup without training further, even when early
        stopping had ended it before its last epoch."""
        if not self.training_ended.exists():
            return None
        return self.read_record(self.training_ended, keys={"epochs": int})["epochs"]

    @staticmethod
    def read_record(path, keys=None, *, remedy="start it in a new --run-dir"):
        """A JSON object this run wrote, with `keys`, a {name: type} mapping (a type such as `float`, or a union such
        as `float | None`); a damaged one (a disk fault: they are written atomically) or one without them or with a
        value of another type (edited by hand, or not this run's) is one line saying `remedy`, not a traceback
        where it is used."""
        keys = keys or {}
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problem = f"is damaged ({exc})"
        else:
            if not isinstance(record, dict):
                problem = "is not a JSON object"
            elif missing := [key for key in keys if key not in record]:
                problem = f"lacks {', '.join(missing)}"
            elif wrong := [f"{key}={record[key]!r} (not {getattr(kind, '__name__', kind)})"
                           for key, kind in keys.items() if not _is_of(record[key], kind)]:
                problem = f"holds {', '.join(wrong)}"
            else:
                return record
        raise UserError(f"{path} {problem}; the run cannot go on from it: {remedy}") from None

    def clear_training_state(self):
        """Drops the backup and the end-of-training mark once training's record is written: a rerun then goes on
        from `fit.json` and the trained weights."""
        shutil.rmtree(self.backup, ignore_errors=True)
        self.training_ended.unlink(missing_ok=True)

    def write_config(self, config):
        files.write_json(self.config, config)

    def write_metrics(self, metrics):
        files.write_json(self.metrics, metrics)

    def read_history(self):
        """The rows of `history.csv` as dicts of floats (empty when no epoch has finished)."""
        if not self.history.exists():
            return []
        with self.history.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        history = []
        for line, row in enumerate(rows, start=2):
            try:
                # Keras's CSVLogger writes "NA" for a metric it has no value of (no validation batch, say).
                history.append({key: float("nan") if value == "NA" else float(value) for key, value in row.items()})
            except (TypeError, ValueError):  # a row cut short, or run into the next: Keras appends without a rename
                raise UserError(f"{self.history} is damaged at line {line}: mend or delete that line, then "
                                f"rerun") from None
        return history

    def keep_history_before(self, epoch):
        """Cuts `history.csv` (in place: Keras's logger holds it open for appending) before the first row of an
        epoch from `epoch` on, or a row cut short: the rows of epochs a resumed training is about to redo."""
        if not self.history.exists():
            return
        with self.history.open("rb+") as handle:
            lines = handle.readlines()  # none before Keras's logger writes its header with the first row
            kept = len(lines[0]) if lines else 0
            for row in lines[1:]:
                try:
                    if not row.endswith(b"\n") or float(row.split(b",", 1)[0]) >= epoch:
                        break
                except ValueError:
                    break
                kept += len(row)
            handle.truncate(kept)

    def plot_history(self):
        """Draws loss and each metric per epoch, train beside validation, into `training_curves.png`."""
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
        from matplotlib.ticker import MaxNLocator

        rows = self.read_history()
        if not rows:
            return
        names = [key for key in rows[0] if key not in ("epoch", "learning_rate") and not key.startswith("val_")]
        figure, axes = pyplot.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
        epochs = [row["epoch"] + 1 for row in rows]
        for axis, name in zip(axes[0], names):
            axis.plot(epochs, [row[name] for row in rows], marker="o", label="train")
            # Keras writes validation columns, empty, for a run without validation too (as PPO's).
            if any(math.isfinite(row.get(f"val_{name}", math.nan)) for row in rows):
                axis.plot(epochs, [row[f"val_{name}"] for row in rows], marker="o", label="validation")
            axis.set_xlabel("epoch")
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.set_title(name)
            axis.grid(alpha=0.3)
            axis.legend()
        figure.tight_layout()
        with files.atomic_path(self.curves) as temporary:
            figure.savefig(temporary, format="png", dpi=100)
        pyplot.close(figure)


def _is_of(value, kind):
    """Whether a value read from JSON is of `kind`, a type or a union of types: a float is any number, and true and
    false are no number (though Python's bool is an int)."""
    if isinstance(kind, UnionType):
        return any(_is_of(value, option) for option in get_args(kind))
    if isinstance(value, bool):
        return kind is bool
    return isinstance(value, (int, float) if kind is float else kind)
