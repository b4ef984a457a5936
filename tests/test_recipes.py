import argparse
import dataclasses

import pytest

from keras_apps.errors import UserError
from keras_apps.models.gpt import GPTConfig
from keras_apps.recipes import Recipe, StepSchedule, add_recipe_flags, overlaid
from keras_apps.training.config import TrainingConfig

RECIPE = Recipe(GPTConfig(context_length=16, num_layers=1, num_heads=2, hidden_dim=8),
                TrainingConfig(learning_rate=1e-3, batch_size=4),
                StepSchedule(max_steps=100, eval_interval=10, warmup_steps=5, min_learning_rate=1e-4))


def parser_of(recipes):
    parser = argparse.ArgumentParser()
    add_recipe_flags(parser, recipes)
    parser.add_argument("--run-dir")
    return parser


def parse(argv, recipes=RECIPE):
    return parser_of(recipes).parse_args(argv)


def help_of(recipes):
    return " ".join(parser_of(recipes).format_help().split())


def test_flags_are_laid_over_every_part_and_the_schedule_sets_the_epochs():
    recipe = overlaid(RECIPE, parse(["--num-layers", "3", "--batch-size", "8", "--max-steps", "40"]))
    assert recipe.model.num_layers == 3 and recipe.model.hidden_dim == 8
    assert recipe.training.batch_size == 8 and recipe.training.learning_rate == 1e-3
    assert recipe.training.epochs == 4 and recipe.training.warmup_fraction == 5 / 40
    assert recipe.training.min_lr_fraction == pytest.approx(0.1)


def test_a_step_schedule_owns_the_flags_it_sets():
    with pytest.raises(SystemExit):
        parse(["--epochs", "3"])


@pytest.mark.parametrize("argv, message", [
    (["--max-steps", "45"], "--max-steps 45 is not a multiple of --eval-interval 10"),
    (["--hidden-dim", "9"], "--hidden-dim 9 is not a multiple of --num-heads 2"),
    (["--strategy", "multi_worker"], "needs --run-dir"),
])
def test_an_impossible_recipe_is_one_error_naming_the_flag(argv, message):
    with pytest.raises(UserError, match=message):
        overlaid(RECIPE, parse(argv))


def test_the_help_gives_the_value_of_a_task_s_only_recipe():
    shown = help_of(RECIPE)
    assert "peak learning rate (default: 0.001)" in shown and "global batch size (default: 4)" in shown
    assert "per recipe" not in shown


def test_the_help_gives_each_recipe_s_value_where_the_recipes_differ():
    wide = dataclasses.replace(RECIPE, training=dataclasses.replace(RECIPE.training, batch_size=16))
    shown = help_of({"small": RECIPE, "tiny": RECIPE, "wide": wide})
    assert "global batch size (default: small/tiny 4, wide 16)" in shown
    assert "peak learning rate (default: 0.001)" in shown


UNSCHEDULED = Recipe(None, TrainingConfig(learning_rate=1e-3))


@pytest.mark.parametrize("recipe, flag, value", [
    (RECIPE, "--warmup-steps", "3"), (RECIPE, "--min-learning-rate", "1e-5"),
    (UNSCHEDULED, "--warmup-fraction", "0.1"), (UNSCHEDULED, "--min-lr-fraction", "0.5"),
])
def test_a_cosine_flag_is_refused_under_a_constant_schedule_never_recorded_unused(recipe, flag, value):
    assert overlaid(recipe, parse([flag, value], recipe)).training.lr_schedule == "cosine"
    with pytest.raises(UserError, match=f"^{flag} applies to the cosine schedule, and this one is constant"):
        overlaid(recipe, parse([flag, value, "--lr-schedule", "constant"], recipe))
    constant = overlaid(recipe, parse(["--lr-schedule", "constant"], recipe))  # the recipe's own values: unused
    assert constant.training.lr_schedule == "constant"


def test_a_decay_ending_above_the_peak_is_refused_never_cut_to_the_peak():
    with pytest.raises(UserError, match=r"^--min-learning-rate 0.5 is above the peak --learning-rate 0.001: "):
        overlaid(RECIPE, parse(["--min-learning-rate", "0.5"]))
    with pytest.raises(UserError, match=r"^--min-learning-rate 0.0001 is above the peak --learning-rate 1e-05: "):
        overlaid(RECIPE, parse(["--learning-rate", "1e-5"]))
    at_the_peak = overlaid(RECIPE, parse(["--min-learning-rate", "1e-3"]))
    assert at_the_peak.training.min_lr_fraction == 1.0
    constant = overlaid(RECIPE, parse(["--learning-rate", "1e-5", "--lr-schedule", "constant"]))
    assert constant.training.learning_rate == 1e-5  # a constant rate decays to nothing


def test_a_cosine_flag_given_as_0_is_refused_under_a_constant_schedule_too():
    assert overlaid(RECIPE, parse(["--warmup-steps", "0"])).schedule.warmup_steps == 0  # laid over the recipe's 5
    with pytest.raises(UserError, match="^--warmup-steps applies to the cosine schedule, and this one is constant"):
        overlaid(RECIPE, parse(["--warmup-steps", "0", "--lr-schedule", "constant"]))


def test_a_warm_up_as_long_as_the_training_is_refused_naming_the_flag_given():
    with pytest.raises(UserError, match="^--warmup-steps 100 must be fewer than --max-steps 100$"):
        overlaid(RECIPE, parse(["--max-steps", "100", "--warmup-steps", "100"]))
