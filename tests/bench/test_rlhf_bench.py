"""`python -m bench rlhf`: the row it makes of the pipeline's stages (the pipeline itself replaced by the files it
writes) and its plot, the README table of the frontier, a shortened run refused, and an interrupted one resumed in
its work folder."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import __main__ as bench_main
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
    name, row = next(rlhf.run(["pipeline"], 1, [], work_dir=tmp_path / "work"))
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


def test_a_failed_pipeline_keeps_its_stages_exports(tmp_path, monkeypatch, capsys):
    """Its temporary folder went with the failure: hours of stages, each export a model, lost."""
    def failing_pipeline(argv):
        (tmp_path / "work" / "exports" / "rlhf-sft" / "1").mkdir(parents=True)
        raise UserError("the ppo stage failed")

    monkeypatch.setattr(rlhf, "python", failing_pipeline)
    with pytest.raises(UserError, match="the ppo stage failed"):
        next(rlhf.run(["pipeline"], 1, [], figures=False, work_dir=tmp_path / "work"))
    assert (tmp_path / "work" / "exports" / "rlhf-sft" / "1").is_dir()
    assert f"the pipeline's runs and exports are kept in {tmp_path / 'work'}" in capsys.readouterr().err


def test_the_same_command_again_resumes_in_the_same_folder_removed_once_the_row_is_recorded(tmp_path, monkeypatch,
                                                                                             capsys):
    """Each run made a fresh temporary folder: run again, the pipeline started over, and kept folders piled up."""
    work, attempts = tmp_path / "work", []

    def interrupted_then_finished(argv):
        attempts.append(argv)
        if len(attempts) == 1:
            (work / "exports" / "rlhf-sft" / "1").mkdir(parents=True)
            raise KeyboardInterrupt
        assert (work / "exports" / "rlhf-sft" / "1").is_dir()  # what the first attempt finished, there to reuse
        return written_pipeline(argv)

    def record(name, row, path, readme=False):
        assert work.is_dir(), "the work folder went before the row was recorded"
        return recorded(name, row, path, readme)

    clock = [0.0, 600.0, 600.0, 600.0]  # the interrupted attempt ran 10 minutes
    monkeypatch.setattr(rlhf, "time", SimpleNamespace(perf_counter=lambda: clock.pop(0)))
    monkeypatch.setattr(rlhf, "python", interrupted_then_finished)
    recorded = results.record
    monkeypatch.setattr(results, "record", record)
    argv = ["rlhf", "--work-dir", str(work), "--results", str(tmp_path / "results.json"), "--no-readme"]
    with pytest.raises(KeyboardInterrupt):
        bench_main.main(argv)
    assert f"rlhf-pipeline: working in {work}; the same command again resumes" in capsys.readouterr().out
    assert bench_main.main(argv) == 0
    assert attempts[0] == attempts[1] and not work.exists()
    assert results.load(tmp_path / "results.json")["rlhf-pipeline"]["wall_seconds"] == 600.0 + 1500.0


def test_a_work_folder_holding_other_files_is_refused_before_any_stage(tmp_path, monkeypatch):
    """The folder is removed whole after the row: one named by mistake must not take the user's files with it."""
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setattr(rlhf, "python", lambda argv: pytest.fail("the pipeline ran"))
    with pytest.raises(UserError, match=f"--work-dir {tmp_path} holds notes.txt, which the pipeline did not write"):
        next(rlhf.run(["pipeline"], 1, [], work_dir=tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "mine"
