"""The reports of preference tuning's stages."""

import re

import numpy as np
import pytest

from keras_apps.evaluate import preference
from keras_apps.evaluate.report import write_report
from keras_apps.preference.pairs import Pairs

DPO = (preference.write_dpo_report, {"pairs": {"margin": np.array([0.5, 1.5])}, "beta": 0.1,
                                     "held_out": {"loss": 0.6, "preference_accuracy": 0.7}})
PPO = (preference.write_ppo_report, {"history": [{"epoch": 0, "score": 0.1, "kl": 0.2, "kl_coefficient": 0.05,
                                                  "entropy": 1.0, "clip_fraction": 0.1, "value_loss": 0.3}],
                                     "kl_target": 6})


@pytest.mark.parametrize("write, figures", [DPO, PPO])
def test_a_tuned_policy_s_report_gives_the_evaluate_command_as_a_reader_copies_it(tmp_path, monkeypatch, write,
                                                                                   figures):
    """Its `--policy-export <its export>` read `&lt;its export>` in report.md: Markdown decodes no entity in a
    code span."""
    def sections_only(directory, title, metrics, sections, throughput):  # without those read from a run folder
        write_report(directory, title, sections)

    monkeypatch.setattr(preference, "write_run_report", sections_only)
    write(tmp_path, {"train_examples_per_second": 100.0}, **figures)
    commands = re.findall("`([^`]*)`", (tmp_path / "report.md").read_text())
    assert "python -m tasks.rlhf evaluate --policy-export EXPORT" in commands
    assert not [command for command in commands if "&" in command]


def test_the_accuracy_at_each_gap_is_of_the_pairs_of_that_gap_alone():
    pairs = Pairs(chosen=np.array([1, 0]), rejected=np.array([0, 2]), gaps=np.array([1, 5]))
    assert preference.accuracy_by_gap(np.array([0.0, 1.0, 2.0]), pairs) == [(1, 1, 1.0), (5, 1, 0.0)]


def test_the_evaluation_table_gives_the_judge_then_the_reward(tmp_path):
    point = {"method": "SFT", "judge": 0.6, "reward": 1.0, "kl": 0.0}
    preference.write_evaluation(tmp_path, [point], [], prompts=4, new_tokens=8, sft="sft/1", judge="judge/1",
                                reward="reward/1")
    assert "| SFT | 0.6000 | +1.000 | 0.00 |" in (tmp_path / "report.md").read_text()
