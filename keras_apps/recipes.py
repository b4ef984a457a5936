"""A recipe: one named way to train a task's model, as typed settings whose fields are flags.

Every task's `RECIPES` maps a name (`--model`, `--recipe`) to a `Recipe`; `overlaid` lays the flags a user
gave over the chosen one, the same way for every task (`keras_apps.settings`).
"""

import dataclasses
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

    def apply(self, config):
        """`config` training `max_steps` in epochs of `eval_interval` steps, with this warm-up and decay."""
        return dataclasses.replace(
            config, epochs=self.max_steps // self.eval_interval, warmup_fraction=self.warmup_steps / self.max_steps,
            min_lr_fraction=min(self.min_learning_rate / config.learning_rate, 1.0),
        )


@dataclass(frozen=True)
class Recipe:
    """What is trained (`model`: the task's settings dataclass), how (`training`) and, for a task that counts
    steps, when it is checked (`schedule`)."""

    model: Any
    training: TrainingConfig
    schedule: StepSchedule | None = None

    def parts(self):
        return [part for part in (self.model, self.training, self.schedule) if part is not None]


def add_recipe_flags(parser, recipe):
    """A group of flags for each part of `recipe` (the chosen recipe's values are the defaults)."""
    titles = {id(recipe.model): "model", id(recipe.training): "training", id(recipe.schedule): "schedule"}
    for part in recipe.parts():
        exclude = StepSchedule.SETS if part is recipe.training and recipe.schedule is not None else ()
        settings.add_flags(parser.add_argument_group(titles[id(part)]), type(part), exclude=exclude)


def overlaid(recipe, args):
    """`recipe` with every flag given in `args` laid over its parts; a step schedule then sets the epochs.

    A multi-worker run needs `--run-dir` (checked before any worker joins the cluster).
    """
    model = settings.overlay(recipe.model, args) if dataclasses.is_dataclass(recipe.model) else recipe.model
    schedule = recipe.schedule and settings.overlay(recipe.schedule, args)
    training = settings.overlay(recipe.training, args, exclude=StepSchedule.SETS if schedule else ())
    if schedule is not None:
        training = schedule.apply(training)
    if training.strategy == "multi_worker" and getattr(args, "run_dir", None) is None:
        raise UserError("--strategy multi_worker needs --run-dir, the same on every worker, so that a restarted "
                        "worker finds its backup")
    return Recipe(model, training, schedule)
