"""The exports the stages hand each other: a missing one is named with the command that makes it, and a judge
that is a reward the policies were measured or tuned against is refused."""

from types import SimpleNamespace

import pytest

from keras_apps.errors import UserError
from keras_apps.preference import stages


def test_a_missing_reward_export_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(UserError, match=r"no reward export at .* `python -m tasks.rlhf reward`"):
        stages.reward_stage(tmp_path / "none", tokenizer=None)


@pytest.mark.parametrize("tuned_against", [None, "judge"])
def test_the_judge_cannot_be_a_reward_of_the_evaluation_or_of_a_policy(tmp_path, tuned_against):
    (tmp_path / "judge").mkdir()
    reward = "judge" if tuned_against is None else "reward"
    policy = SimpleNamespace(metadata={"tuning": {"reward_export": str(tmp_path / (tuned_against or "reward"))}})
    with pytest.raises(UserError, match="is a reward the policies are measured or were tuned against"):
        stages.judge_stage(tmp_path / "judge", tmp_path / reward, [policy])


def test_a_missing_judge_names_the_task_that_trains_one(tmp_path):
    with pytest.raises(UserError, match="train one with `python -m tasks.imdb`"):
        stages.judge_stage(tmp_path / "none", tmp_path / "reward", [])
