import argparse

import pytest

from keras_apps.errors import UserError
from keras_apps.models.gpt import GPTConfig
from keras_apps.recipes import Recipe, StepSchedule, add_recipe_flags, overlaid
from keras_apps.training.config import TrainingConfig

RECIPE = Recipe(GPTConfig(context_length=16, num_layers=1, num_heads=2, hidden_dim=8),
                TrainingConfig(learning_rate=1e-3, batch_size=4),
                StepSchedule(max_steps=100, eval_interval=10, warmup_steps=5, min_learning_rate=1e-4))


def parse(argv):
    parser = argparse.ArgumentParser()
    add_recipe_flags(parser, RECIPE)
    parser.add_argument("--run-dir")
    return parser.parse_args(argv)


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
