"""The life of one training run, the same for every task: start, learn what it needs once, fit, finish.

    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)  # strategy, seeds, checks
    data = ...                                                    # the task loads its data
    run.open(settings)                                            # the run folder and what it is made from
    vocabulary = run.learned_once("vocabulary.txt", learn, save, load)
    result = run.fit(build_model, train, validation, loss=..., metrics=...)
    if not result.is_chief: return 0                              # a cluster's other workers stop here
    ...                                                           # the task evaluates its model
    run.begin("sampling and decoding")                            # each phase the task's time goes to
    run.finish(result, model_name, Export(...), card, report, summary, test_metrics=...)

What a rerun with the same `--run-dir` does is decided in one place. The folder records the settings and the
data fingerprint it was started with (`config.json`); once training has started, a rerun that differs is refused
in one line naming the difference, so a failed attempt's vocabulary or checkpoints never meet other data (before
that, as when an attempt was refused for a text too short for its context, it starts over). Otherwise it resumes:
artifacts are read back, training goes on from its last finished epoch (or, once it has ended, from the
trained model), and an export the run already published is not published twice. A run is finished only
when `metrics.json`, its last file, is written.

Where the command's time went, phase by phase (`keras_apps.timing`), goes into `metrics.json` (`time`) and the
report: start-up, data preparation, tracing and compilation, training steps, validation, evaluation, the
task's own phases, export, report.
"""

import json
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from keras_apps import files
from keras_apps.data.fingerprint import fingerprint  # noqa: F401 - re-exported for the tasks
from keras_apps.errors import UserError
from keras_apps.timing import Phases
from keras_apps.training.run_directory import RunDirectory


def require_data(train, validation, batch_size, unit):
    """Refuses, in one line and before anything is learned, data too small to train a batch and validate on."""
    if train < batch_size:
        raise UserError(f"{train} training {unit} are fewer than one batch of {batch_size}")
    if not validation:
        raise UserError(f"no {unit} are left for validation: give more training data (--train-examples) or a "
                        f"larger --validation-fraction")


# The part of training that is neither its steps nor their compilation: building the model, validating after
# each epoch, checkpoints and other callbacks.
FITTING = "validation and checkpoints during training"


@dataclass
class Export:
    """What a run exports: its serving endpoints and what travels with them (see `export_model`)."""

    endpoints: dict
    metadata: dict = field(default_factory=dict)  # facts for export.json: inputs, outputs, the task's settings
    track: list = field(default_factory=list)
    files: list = field(default_factory=list)


def start_run(task, config, *, run_dir, export_dir, export_task=None, export_kind=None):
    """Selects the strategy (before TensorFlow starts), seeds everything and checks the output folders: both
    writable, neither inside a published export version nor the run folder inside the export folder, the export
    folder's path one TensorFlow can read a SavedModel under, and the export folder holding no other task's exports
    (`export_task`, when the export is of another task than the run, as a tuned policy is a `gpt`) nor another
    kind of its task's (`export_kind`, see `check_export_root`).

    Nothing is created yet: a run whose data turns out missing or corrupt leaves no folder behind.
    """
    from keras_apps.export.saved_model import check_export_root, check_outside_exports, check_readable_by_tensorflow
    from keras_apps.training.runner import seed_everything
    from keras_apps.training.strategy import describe, select_strategy

    if run_dir is not None:
        files.check_writable_directory(run_dir, "--run-dir")
        check_outside_exports(run_dir, "--run-dir")
        _check_outside_export_root(run_dir, export_dir)
        RunDirectory(run_dir).check_reusable()
        RunDirectory(run_dir).check_holds_a_run_or_nothing()
    files.check_writable_directory(export_dir, "--export-dir")
    check_readable_by_tensorflow(export_dir, "--export-dir")
    check_outside_exports(export_dir, "--export-dir")
    check_export_root(export_dir, export_task or task, export_kind)
    strategy = select_strategy(config.strategy)
    print(describe(strategy, config.batch_size))
    seed_everything(config.seed, config.deterministic)
    run = Run(task, config, strategy, run_dir, Path(export_dir), (export_task or task, export_kind))
    run.begin("data preparation")
    return run


def _check_outside_export_root(run_dir, export_dir):
    """Refuses, in one line, a run folder in the export folder: TF Serving would serve one named by a number as the
    newest version, and the run's own files would sit among the versions."""
    run_folder = Path(run_dir).resolve()
    if Path(export_dir).resolve() in (run_folder, *run_folder.parents):
        raise UserError(f"--run-dir {run_dir} lies inside --export-dir {export_dir}, the folder of published "
                        f"versions; give a --run-dir outside it")


class Run:
    """One training run of a task: its strategy, settings and folder, and the steps every task takes."""

    def __init__(self, task, config, strategy, run_dir, export_root, export_kind):
        self.task = task
        self.config = config
        self.strategy = strategy
        self.run_dir = run_dir
        self.export_root = export_root
        self.export_kind = export_kind  # (task, facts) the export folder's versions share, asked again at publishing
        self.directory = None
        self.identity = None  # this run's, kept across its resumes: its export is found by it (`finish`)
        self.resumed = False
        self.phases = Phases()  # from the command's start

    def begin(self, phase):
        """Ends the phase the command's time went to so far and opens `phase` (`keras_apps.timing`)."""
        self.phases.begin(phase)

    def open(self, settings):
        """Opens the run folder and records `settings` (the task's choices and its data's facts) in it.

        A folder an earlier attempt started is resumed only with the same settings and training config.
        """
        from keras_apps.training.runner import open_run_directory

        self.directory = open_run_directory(self.task, self.run_dir, self.strategy)
        recorded = {"task": self.task, **settings, **self.config.to_dict()}
        recorded = json.loads(json.dumps(recorded))  # as it reads back: tuples become lists
        # A run is known by an identity drawn when its folder is first opened, not by the folder's path: a new run
        # in the path of a deleted one must publish its own export, not find the deleted run's.
        self.identity = uuid.uuid4().hex
        if self.directory.config.exists():
            try:
                earlier = json.loads(self.directory.config.read_text())
                earlier_identity = earlier.pop("run_id", self.identity)
                if not isinstance(earlier_identity, str):  # its export would be published under it
                    raise ValueError(f"its run_id {earlier_identity!r} is not a string")
            except (OSError, ValueError) as exc:
                raise UserError(f"--run-dir {self.directory.path} has an unreadable config.json ({exc}); give a "
                                f"new --run-dir") from None
            if earlier.get("task") == self.task and earlier != recorded and not self.directory.training_started():
                print(f"Starting over in {self.directory.path}: the attempt there stopped before training, with "
                      f"other settings")
                self.directory.start_over()
            else:
                _refuse_changes(self.directory, earlier, recorded)
                self.identity, self.resumed = earlier_identity, True
                print(f"Resuming the interrupted run in {self.directory.path}")
        self.directory.write_config({**recorded, "run_id": self.identity})
        return self.directory

    def learned_once(self, name, learn, save, load):
        """`load(path)` of the run's artifact `name`: made by `learn()` and `save(value, path)` the first time,
        read back when the run resumes (`open` has checked it was made from the same data and settings).

        `save` must write atomically (all of this package's savers do): an attempt killed while saving leaves
        nothing, and the rerun learns the artifact again. Its digest, recorded once it is saved (`learned.json`),
        is checked when it is read back: one changed since (damaged, or another run's copied in) is refused in one
        line rather than loaded into this run. One saved but not yet recorded (an attempt killed in between) is
        whole, as saving is atomic: it is recorded then.
        """
        path, record = self.directory.path / name, self.directory.learned
        recorded = self.directory.read_record(record) if record.exists() else {}
        if not path.exists():
            save(learn(), path)
            recorded.pop(name, None)
        elif name in recorded and files.digest(path) != recorded[name]:
            raise UserError(f"{path} changed after this run learned it (its digest is not the one in "
                            f"{record.name}); give a new --run-dir")
        if name not in recorded:
            files.write_json(record, {**recorded, name: files.digest(path)})
        return load(path)

    def fit(self, build_model, train_dataset, validation_dataset, *, lora_rank=None, lora_train=(), **compiled):
        """The runner's `fit` in this run's folder, strategy and config (see `keras_apps.training.runner.fit`).

        With `lora_rank`, the built model trains through low-rank adapters, with the layers named in `lora_train`
        trained whole (`keras_apps.training.lora.enable`); the result's model has them merged into its weights.
        """
        from keras_apps.training import lora
        from keras_apps.training.runner import compiled_for_evaluation, fit

        self.begin(FITTING)
        adapted = lora_rank is not None
        build = (lambda: lora.enable(build_model(), lora_rank, train=lora_train)) if adapted else build_model
        result = fit(build, train_dataset, validation_dataset, config=self.config,
                     run_directory=self.directory, strategy=self.strategy, **compiled)
        if adapted:
            print(f"Merging the rank-{lora_rank} LoRA adapters into the model's weights")
            merged = compiled_for_evaluation(lora.merged(result.model), jit_compile=result.model.jit_compile,
                                             **compiled)
            result = replace(result, model=merged)
        self.begin("evaluation")
        self.phases.split(FITTING, result.step_phases)
        return result

    def finish(self, result, model_name, export, card, report, summary, *, test_metrics=None, evaluation=None,
               extra=None, metrics_update=None):
        """Exports the model with its card, writes the report and `metrics.json`, and prints the summary.

        Args:
            result: the `FitResult` of `fit`.
            model_name: the model or recipe the run trained.
            export: an `Export`.
            card: the task's `CardText`; the figures come from the metrics.
            report: `report(metrics)` writes the run's report into its folder.
            summary: `summary(metrics)`, the line printed before the run's and the export's paths.
            test_metrics, evaluation, extra: figures for `metrics.json` (`keras_apps.training.metrics`).
            metrics_update: further top-level figures for `metrics.json`.
        Returns:
            the command's exit status, 0.
        """
        from keras_apps.export.model_card import model_card
        from keras_apps.export.saved_model import export_model
        from keras_apps.training.metrics import run_metrics

        metrics = run_metrics(task=self.task, model_name=model_name, fit_result=result, test_metrics=test_metrics,
                              export_path=None, strategy=self.strategy, extra=extra, evaluation=evaluation)
        metrics.update(metrics_update or {})
        self.begin("export")
        print(f"Exporting to {self.export_root}: tracing {', '.join(export.endpoints)} into a SavedModel", flush=True)
        metadata = {"task": self.task, "model": model_name, **export.metadata, "run": str(self.directory.path)}
        settings = json.loads(self.directory.config.read_text())  # what the card says of the run's data
        if test_metrics is not None:
            metadata["test"] = {name: float(value) for name, value in test_metrics.items()}
        export_path = export_model(
            result.model, self.export_root, export.endpoints, metadata=metadata, track=export.track,
            files_to_copy=export.files, documents={"MODEL_CARD.md": model_card(metrics, metadata, card, settings)},
            run_id=self.identity, kind=self.export_kind,
        )
        metrics["export"] = str(export_path)
        metrics["time"] = self.phases.breakdown()  # what the report shows: the time until it is written
        self.begin("report")
        report(metrics)
        metrics["time"] = self.phases.breakdown()
        self.directory.write_metrics(metrics)
        print(f"\n{summary(metrics)}\nrun: {self.directory.path}\nexport: {export_path}")
        return 0


def _refuse_changes(directory, recorded, wanted):
    """A one-line error naming what differs between a run folder's recorded settings and this command's."""
    if recorded.get("task") != wanted["task"]:  # another command's run: its settings would all differ
        raise UserError(f"--run-dir {directory.path} holds an unfinished run of {recorded.get('task')!r}, not of "
                        f"{wanted['task']!r}; rerun that command to finish it, or give a new --run-dir")
    changed = [key for key in sorted(set(recorded) | set(wanted)) if recorded.get(key) != wanted.get(key)]
    if not changed:
        return
    shown = ", ".join(f"{key} {recorded.get(key)!r} (now {wanted.get(key)!r})" for key in changed[:3])
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    raise UserError(f"--run-dir {directory.path} holds an unfinished run started with other settings: {shown}{more}; "
                    f"rerun it with the same ones, or give a new --run-dir")
