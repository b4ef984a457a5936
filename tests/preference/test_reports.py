"""What the evaluation and the reward model's report name and show: every policy told apart by its export version,
the exports measured by and against, and reviews kept on their table's row."""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_apps.data.imdb import LabeledTexts, Splits
from keras_apps.evaluate import preference as reports
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference import evaluation
from keras_apps.preference.pairs import Pairs
from keras_apps.text.wordpieces import WordPieceText

TEXT = "A wonderful film with wonderful actors.\nThe plot was thin and the acting was worse than awful."
SETTINGS = {"beta": 0.1, "pairs": 40}  # what a policy's export records: a seed is not among them


def _frontier(policies):
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    keras.utils.set_random_seed(0)
    reference = build_gpt(GPTConfig(vocabulary_size=tokenizer.vocabulary_size(), context_length=16, num_layers=1,
                                    num_heads=2, hidden_dim=8, dropout=0.0))
    prompts = evaluation.review_prompts(tokenizer, TEXT.split("\n"), seed=0)

    def judge(texts):
        return {"probability": tf.fill([len(texts)], 0.5)}

    policies = [(export, "DPO", SETTINGS, reference) for export in policies]
    return evaluation.frontier(reference, lambda samples: np.zeros(len(samples.prompts)), judge, tokenizer, prompts,
                               new_tokens=3, best_of_counts=(2,), policies=policies, shown=2)


def test_two_policies_of_one_method_and_settings_keep_their_own_points_and_examples():
    exports = [Path("/exports/rlhf-dpo/1"), Path("/exports/rlhf-dpo-seed-2/1")]
    points, examples = _frontier(exports)
    assert [point.get("export") for point in points] == [None, None, *map(str, exports)]
    names = [name for name, _ in examples]
    assert names == ["SFT"] * 2 + ["best-of-2"] * 2 + [f"DPO {exports[0]}"] * 2 + [f"DPO {exports[1]}"] * 2


def test_the_evaluation_names_the_sft_export_and_each_policys(tmp_path, capsys):
    points = [evaluation.point("SFT", reward=[0.0], judge=[0.5], kl=0.0)]
    points += [evaluation.point("DPO", export=f"/exports/dpo-{seed}/1", **SETTINGS, reward=[1.0], judge=[0.6], kl=0.5)
               for seed in (1, 2)]
    reports.write_evaluation(tmp_path, points, [("SFT", "a film")], prompts=8, new_tokens=4, sft="/exports/sft/1",
                             judge="/exports/imdb/1", reward="/exports/reward/1")
    frontier = json.loads((tmp_path / "frontier.json").read_text())
    assert frontier["sft"] == "/exports/sft/1"
    assert [point.get("export") for point in frontier["points"]] == [None, "/exports/dpo-1/1", "/exports/dpo-2/1"]
    page = (tmp_path / "report.md").read_text()
    assert "/exports/sft/1" in page
    rows = [line for line in page.splitlines() if line.startswith("| DPO")]
    assert len(rows) == 2 and "/exports/dpo-1/1" in rows[0] and "/exports/dpo-2/1" in rows[1]


def test_the_reward_report_shows_each_review_on_one_line(monkeypatch):
    written = {}
    monkeypatch.setattr(reports, "write_run_report", lambda directory, title, metrics, sections, speed:
                        written.update(sections))
    texts = ["Great.\n\nI loved it.", "Awful\r\nfilm."]
    reviews = LabeledTexts(texts, np.array([1, 0]), np.array([10, 1]))
    splits = Splits(train=reviews, validation=reviews, test=reviews, unlabeled=[])
    metrics = {"test": {"pairwise_accuracy": 1.0, "pairs": 1, "pairwise_accuracy_clear": 1.0, "clear_pairs": 1},
               "train_examples_per_second": 1.0}
    reports.write_reward_report(None, metrics, rewards=np.array([2.0, -2.0]), splits=splits, shown=1,
                                pairs=Pairs(np.array([0]), np.array([1]), np.array([9])))
    table, = written["The test openings it rewards most and least"]
    assert [opening for _, _, opening in table.rows] == ["Great. I loved it.", "Awful film."]
