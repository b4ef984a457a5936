"""A recipe: one named way to train a task's model, as typed settings whose fields are flags.

Every task's `RECIPES` maps a name (`--model`, `--recipe`) to a `Recipe`; `overlaid` lays the flags a user
gave over the chosen one, the same way for every task (`keras_apps.settings`).
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keras_apps import settings
from keras_apps.errors import UserError
from keras_apps.training.config import TrainingConfig

TRANSFORMER_BLOCKS = ("keras-hub", "explained")


def transformer_blocks():
    """The `--blocks` setting of a model made of Transformer blocks."""
    return settings.setting("keras-hub", help="Transformer blocks: keras-hub's layers, or the same computations "
                            "written out formula by formula (keras_apps/models/attention_explained.py)",
                            choices=TRANSFORMER_BLOCKS)


@dataclass(frozen=True)
class StepSchedule:
    """Training counted in steps rather than passes over the data (a language model's), checked every
    `eval_interval` steps on `eval_batches` validation batches; the learning rate warms up for `warmup_steps`,
    then decays to `min_learning_rate`."""

    max_steps: int = settings.setting(2000, help="training steps in all", type=settings.positive_int)
    eval_interval: int = settings.setting(200, help="steps between validation losses (and best-checkpoint "
                                          "checks)", type=settings.positive_int)
    eval_batches: int = settings.setting(20, help="validation batches per interval (a fixed sample)",
                                         type=settings.positive_int)
    warmup_steps: int = settings.setting(100, help="linear warm-up steps", type=settings.non_negative_int)
    min_learning_rate: float = settings.setting(1e-4, help="where the cosine decay ends",
                                                type=settings.non_negative_float)

    def __post_init__(self):
        if self.max_steps % self.eval_interval:
            raise settings.SettingError(StepSchedule, "max_steps", f"{self.max_steps} is not a multiple of "
                                        f"--eval-interval {self.eval_interval}")
        if self.warmup_steps >= self.max_steps:
            raise settings.SettingError(StepSchedule, "warmup_steps", f"{self.warmup_steps} must be fewer than "
                                        f"--max-steps {self.max_steps}")

    # The training flags a step schedule sets itself.
    SETS = ("epochs", "warmup_fraction", "min_lr_fraction")
    # Its settings that only a cosine schedule uses.
    COSINE_ONLY = ("warmup_steps", "min_learning_rate")

    def apply(self, config):
        """`config` training `max_steps` in epochs of `eval_interval` steps, with this warm-up and decay.

        A decay ending above the peak is refused rather than cut to it; under a constant schedule, which
        decays nothing, the fraction is only kept within [0, 1].
        """
        decay_end = self.min_learning_rate / config.learning_rate
        if config.lr_schedule == "cosine" and decay_end > 1:
            raise settings.SettingError(StepSchedule, "min_learning_rate", f"{self.min_learning_rate:g} is above "
                                        f"the peak --learning-rate {config.learning_rate:g}: lower it to the peak "
                                        "or below")
        return dataclasses.replace(
            config, epochs=self.max_steps // self.eval_interval, warmup_fraction=self.warmup_steps / self.max_steps,
            min_lr_fraction=min(decay_end, 1.0),
        )


@dataclass(frozen=True)
class Recipe:
    """What is trained (`model`: the task's settings dataclass), how (`training`) and, for a task that counts
    steps, when it is checked (`schedule`)."""

    model: Any
    training: TrainingConfig
    schedule: StepSchedule | None = None


def add_recipe_flags(parser, recipes):
    """A group of flags for each part of `recipes`: a task's only `Recipe`, or its recipes by name, whose parts are
    of the same classes. Each flag's help gives what it takes when left unset: the value, or each recipe's."""
    named = recipes if isinstance(recipes, Mapping) else {None: recipes}
    first = next(iter(named.values()))
    for title in ("model", "training", "schedule"):
        part = getattr(first, title)
        if part is None:
            continue
        exclude = StepSchedule.SETS if title == "training" and first.schedule is not None else ()
        shown = {field.name: _values_shown({name: getattr(getattr(recipe, title), field.name)
                                            for name, recipe in named.items()})
                 for field in settings.flag_fields(type(part), exclude)}
        settings.add_flags(parser.add_argument_group(title), type(part), exclude=exclude, default=shown)


def _values_shown(values):
    """`values` (a setting's value in each recipe, by name) as a flag's help shows its default: one value where all
    agree, else each value after the recipes that have it (`convnet 20, resnet 15`; `bow/nb-bow 128, lstm 64`)."""
    names_by_text = {}
    for name, value in values.items():
        names_by_text.setdefault(str(value), []).append(name)
    if len(names_by_text) == 1:
        return next(iter(names_by_text))
    return ", ".join(f"{'/'.join(names)} {text}" for text, names in names_by_text.items())


def overlaid(recipe, args):
    """`recipe` with every flag given in `args` laid over its parts; a step schedule then sets the epochs.

    A multi-worker run needs `--run-dir` (checked before any worker joins the cluster).
    """
    model = settings.overlay(recipe.model, args) if dataclasses.is_dataclass(recipe.model) else recipe.model
    schedule = recipe.schedule and settings.overlay(recipe.schedule, args)
    training = settings.overlay(recipe.training, args, exclude=StepSchedule.SETS if schedule else ())
    _check_cosine_flags(training, args)
    if schedule is not None:
        training = schedule.apply(training)
    if training.strategy == "multi_worker" and getattr(args, "run_dir", None) is None:
        raise UserError("--strategy multi_worker needs --run-dir, the same on every worker, so that a restarted "
                        "worker finds its backup")
    return Recipe(model, training, schedule)


def _check_cosine_flags(training, args):
    """Refuses a flag given in `args` that only a cosine schedule uses when `training`'s schedule is constant: it
    would be recorded in the run's config as if it had shaped the training."""
    if training.lr_schedule != "constant":
        return
    for settings_class in (TrainingConfig, StepSchedule):
        cosine_flags = {settings.flag_name(settings_class, name) for name in settings_class.COSINE_ONLY}
        given = [flag for flag in settings.given_flags(settings_class, args) if flag in cosine_flags]
        if given:
            raise UserError(f"{given[0]} applies to the cosine schedule, and this one is constant: leave it out or "
                            "add --lr-schedule cosine")
