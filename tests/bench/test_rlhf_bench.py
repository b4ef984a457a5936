"""`python -m bench rlhf`: the row it makes of the pipeline's stages (the pipeline itself replaced by the files it
writes) and its plot, the README table of the frontier, and a shortened run refused."""

import json
import shutil
from pathlib import Path

import pytest

from bench import results, rlhf
from keras_apps.errors import UserError
from tests.bench.test_results import MACHINE, SHOWN

POINTS = [{"method": "SFT", "reward": 0.6, "judge": 0.49, "kl": 0.0},
          {"method": "best-of-N", "n": 4, "reward": 2.4, "judge": 0.65, "kl": 0.64},
          {"method": "PPO", "iterations": 60, "reward": 5.1, "judge": 0.87, "kl": 15.2}]


def written_pipeline(argv):
    """What `python -m tasks.rlhf --exports E --run-dir R` leaves in R, with made-up figures."""
    runs = argv[argv.index("--run-dir") + 1]
    stage = {"sft": {"validation": {"loss": 4.5, "perplexity": 90.0}},
             "reward": {"test": {"pairwise_accuracy": 0.78, "pairs": 20000, "pairwise_accuracy_clear": 0.89,
                                 "clear_pairs": 11000}},
             "classifier": {"test": {"accuracy": 0.9168}}, "judge": {"test": {"accuracy": 0.875}}, "dpo": {},
             "ppo": {"last_iteration": {"score": 5.0, "kl": 15.6, "epoch": 59}}}
    for seconds, (name, metrics) in enumerate(stage.items(), start=1):
        (folder := Path(runs) / name).mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({**metrics, "time": {"total_seconds": 60.0 * seconds}}))
    (folder := Path(runs) / "evaluate").mkdir()
    (folder / "frontier.json").write_text(json.dumps({"points": POINTS, "prompts": 500, "new_tokens": 48}))
    return 1500.0


def test_the_row_gathers_every_stage_s_figures_and_the_frontier_drawn(tmp_path, monkeypatch):
    monkeypatch.setattr(rlhf, "python", written_pipeline)
    monkeypatch.setattr(rlhf, "FRONTIER_PLOT", tmp_path / "frontier.png")
    name, row = next(rlhf.run(["pipeline"], 1, []))
    assert name == "rlhf-pipeline" and (tmp_path / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    assert row["wall_seconds"] == 1500.0 and row["stage_seconds"] == {
        "sft": 60.0, "reward": 120.0, "classifier": 180.0, "judge": 240.0, "ppo": 360.0, "dpo": 300.0}
    assert row["classifier_accuracy"] == 0.9168 and row["judge_accuracy"] == 0.875 and row["frontier"] == POINTS
    assert row["sft_loss"] == 4.5
    assert row["reward_agreement"]["pairwise_accuracy_clear"] == 0.89 and row["ppo_last_iteration"]["kl"] == 15.6

    text = results.table({"rlhf-pipeline": {**row, **MACHINE}})
    assert f"| PPO (iterations 60) | 0.8700 | +5.100 | 15.20 | {SHOWN} |" in text
    assert f"| best-of-N (n 4) | 0.6500 | +2.400 | 0.64 | {SHOWN} |" in text
    assert ("(`python -m tasks.rlhf`, 25 minutes: sft 1.0, reward 2.0, classifier 3.0, judge 4.0, ppo 6.0, "
            "dpo 5.0)") in text
    assert "IMDB's nb-bow classifier (91.68 % test accuracy), the judge IMDB's Transformer" in text
    assert "without a teacher (87.50 %)" in text and "0.8900 on those rated 4+" in text


def test_a_shortened_run_is_refused_in_one_line():
    with pytest.raises(UserError, match="takes no --train-examples"):
        next(rlhf.run(["pipeline"], 1, ["--epochs", "1"]))


def test_a_failed_pipeline_keeps_its_stages_exports(tmp_path, monkeypatch, capsys):
    """Its temporary folder went with the failure: hours of stages, each export a model, lost."""
    kept = []

    def failing_pipeline(argv):
        workdir = Path(argv[argv.index("--exports") + 1]).parent
        (workdir / "exports" / "rlhf-sft" / "1").mkdir(parents=True)
        kept.append(workdir)
        raise UserError("the ppo stage failed")

    monkeypatch.setattr(rlhf, "python", failing_pipeline)
    with pytest.raises(UserError, match="the ppo stage failed"):
        next(rlhf.run(["pipeline"], 1, [], figures=False))
    assert (kept[0] / "exports" / "rlhf-sft" / "1").is_dir()
    assert f"the pipeline's runs and exports are kept in {kept[0]}" in capsys.readouterr().err
    shutil.rmtree(kept[0])
