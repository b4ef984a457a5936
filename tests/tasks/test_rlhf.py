"""`python -m tasks.rlhf`: its commands and errors; sft (the `tiny_sft` fixture), reward and DPO end to end on a
tiny archive of reviews in the real layout, their exports served by fresh processes; reward, PPO and the evaluation
on a slice of the real reviews."""

import json
import math
import shutil

import pytest

from keras_apps.data import imdb
from tasks import gpt as gpt_task
from tasks import imdb as imdb_task
from tasks import rlhf as task
from tests.conftest import TINY_IMDB_SIZES, run_cli, run_python, write_tiny_imdb


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.mark.parametrize("command", [[], ["pipeline"], ["sft"], ["reward"], ["ppo"], ["dpo"], ["evaluate"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.rlhf" in out


@pytest.mark.parametrize("argv, message", [
    (["sft", "--max-steps", "0"], "--max-steps"),
    (["sft", "--max-steps", "10", "--eval-interval", "4"], "not a multiple of --eval-interval 4"),
    (["dpo", "--candidates", "1"], "--candidates: must be at least 2"),
    (["dpo", "--candidates", "1000"], "--candidates: must be at most 64"),
    (["evaluate", "--best-of", "4", "100000"], "--best-of: must be at most 256"),
    (["evaluate", "--best-of", "2", "--best-of", "4"], "--best-of is given twice"),
    (["evaluate", "--policy-export", "a", "--policy-export", "b"], "--policy-export is given twice"),
    (["ppo", "--rollouts", "0"], "--rollouts: must be at least 1"),
    (["ppo", "--kl-horizon", "0"], "--kl-horizon: must be at least 1"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys, tmp_path, monkeypatch):
    write_tiny_imdb(tmp_path)
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
    status, _, err = run_task([*argv, "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_the_reward_stage_without_an_sft_export_names_the_command_that_makes_it(tmp_path, capsys):
    status, _, err = run_task(["reward", "--sft-export", str(tmp_path / "none")], capsys)
    assert status == 2 and "make it with `python -m tasks.rlhf sft`" in err and err.count("\n") == 1


def test_an_evaluation_folder_inside_a_published_export_is_refused_before_any_model_loads(tmp_path, capsys):
    version = tmp_path / "exports" / "1"
    version.mkdir(parents=True)
    (version / "export.json").write_text(json.dumps({"task": "gpt", "version": 1}))
    status, _, err = run_task(["evaluate", "--run-dir", str(version / "evaluation")], capsys)
    assert status == 2 and f"lies inside the export {version}" in err and err.count("\n") == 1
    assert sorted(path.name for path in version.iterdir()) == ["export.json"]


def test_sft_then_reward_on_tiny_reviews_export_a_policy_and_a_reward_model_that_fresh_processes_serve(
        tiny_sft, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tiny_sft.cache))
    monkeypatch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
    export_dir, data = tiny_sft.export, ["--data-dir", str(tiny_sft.data_dir)]
    config = json.loads((tiny_sft.run / "config.json").read_text())
    assert config["tokenizer"] == "wordpiece" and config["text_file"].endswith("reviews-train-unsup.txt")
    assert json.loads((export_dir / "1" / "tokenizer.json").read_text())["kind"] == "wordpiece"
    metrics = json.loads((tiny_sft.run / "metrics.json").read_text())
    assert metrics["steps"] == 2 and metrics["validation"]["loss"] > 0
    assert "12 tokens each" in (tiny_sft.run / "samples.md").read_text()  # --sample-tokens reaches the GPT task

    reward_dir = tmp_path / "reward"
    status, _, err = run_task(["reward", "--sft-export", str(export_dir), *data, "--test-reviews", "49", "--run-dir",
                               str(tmp_path / "refused")], capsys)
    assert status == 2 and "--test-reviews 49: there are only 48 reviews in IMDB's test split" in err
    assert not (tmp_path / "refused").exists()  # refused before the run opened
    status, out, err = run_task(["reward", "--sft-export", str(export_dir), *data, "--epochs", "2", "--test-reviews",
                                 "48", "--run-dir", str(tmp_path / "reward-run"), "--export-dir", str(reward_dir)],
                                capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "reward-run" / "metrics.json").read_text())
    assert metrics["task"] == "rlhf-reward" and 0 <= metrics["test"]["pairwise_accuracy"] <= 1
    assert metrics["test"]["pairs"] == 20_000 and "pairwise accuracy" in out
    assert "Agreement with the raters" in (tmp_path / "reward-run" / "report.md").read_text()

    script = (
        "import sys, tensorflow as tf\n"
        "from keras_apps.export.saved_model import load_serving\n"
        "_, score = load_serving(sys.argv[1], 'score', task='rlhf-reward')\n"
        "texts = tf.constant([b'', b'A wonderful film. ' * 5000, b'\\xff\\xfe not utf-8', b'great', b'great'])\n"
        "print(' '.join(f'{value:.6f}' for value in score(texts=texts)['reward'].numpy()))\n"
    )
    fresh = run_python("-c", script, str(reward_dir))
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    rewards = [float(value) for value in fresh.stdout.split()]
    assert len(rewards) == 5 and rewards[3] == rewards[4]  # every text answered; the same text, the same reward

    classifier = tmp_path / "nb-bow"  # DPO's pairs preferred by a sentiment classifier's log-odds instead
    status, _, err = run_cli(imdb_task.main, ["--model", "nb-bow", "--epochs", "1", "--batch-size", "8", *data,
                                              "--run-dir", str(tmp_path / "nb-bow-run"), "--export-dir",
                                              str(classifier)], capsys)
    assert status == 0, err
    dpo = ["dpo", "--sft-export", str(export_dir), "--reward-export", str(classifier), *data, "--epochs", "1"]
    for refused, message in [(["--new-tokens", "500"], "--new-tokens 500 does not fit the SFT model's context of"),
                             (["--prompts", "3"], "2 training pairs (one per --prompts review) are fewer than one "
                              "batch of 32"),
                             (["--prompts", "1", "--batch-size", "2"], "0 training pairs"),
                             (["--prompts", "49"], "--prompts 49: there are only 48 reviews in IMDB's training split"),
                             (["--export-dir", str(export_dir)],  # the SFT's
                              "holds gpt exports that record no tuned_by")]:
        status, _, err = run_task([*dpo, *refused, "--run-dir", str(tmp_path / "refused")], capsys)
        assert status == 2 and message in err and err.count("\n") == 1
        assert not (tmp_path / "refused").exists()  # refused before the run opened
    status, _, err = run_task([*dpo, "--prompts", "40", "--new-tokens", "4", "--run-dir", str(tmp_path / "dpo-run"),
                               "--export-dir", str(tmp_path / "dpo")], capsys)
    assert status == 0, err
    record = json.loads((tmp_path / "dpo" / "1" / "export.json").read_text())
    assert record["task"] == "gpt" and record["tuning"]["method"] == "DPO"
    reward_version = str((classifier / "1").resolve())  # the version, so that a reward retrained since is told apart
    assert record["tuning"]["reward_export"] == reward_version
    assert json.loads((tmp_path / "dpo-run" / "config.json").read_text())["reward_export"] == reward_version
    assert record["tuning"]["settings"]["beta"] == 0.1 and record["tuning"]["settings"]["epochs"] == 1
    assert record["text"]["file"] == imdb.REVIEW_CORPUS  # what `gpt compress` measures it on, checked: not a poem
    assert record["text"]["reviews"]  # and what it is served as: the SFT model's record, kept
    (tmp_path / "poem.txt").write_text("Shall I compare thee to a summer's day?\n" * 50)
    status, _, err = run_cli(gpt_task.main, ["compress", "--export-dir", str(tmp_path / "dpo"), "--text-file",
                                             str(tmp_path / "poem.txt"), "--run-dir", str(tmp_path / "c")], capsys)
    assert status == 2 and "is not the text the export at" in err and f"learned ({imdb.REVIEW_CORPUS})" in err
    status, _, err = run_cli(gpt_task.main, ["compress", "--export-dir", str(tmp_path / "dpo"), *data, "--modes",
                                             "bfloat16", "--decoding-tokens", "2", "--run-dir", str(tmp_path / "c")],
                             capsys)  # by default, on the reviews it learned
    assert status == 0, err
    assert json.loads((tmp_path / "c" / "bfloat16" / "1" / "export.json").read_text())["validation"]["loss"] > 0
    for export in (tmp_path / "dpo", tmp_path / "c" / "bfloat16"):  # a tuned policy and its compressed copy
        reads_markup_as_its_reviews_had_it(export, capsys)
    (tmp_path / "dpo-run" / "metrics.json").unlink()  # as if killed before its last file, then the reward remade
    shutil.rmtree(classifier)
    status, _, err = run_cli(imdb_task.main, ["--model", "nb-bow", "--epochs", "2", "--batch-size", "8", *data,
                                              "--run-dir", str(tmp_path / "nb-bow-again"), "--export-dir",
                                              str(classifier)], capsys)
    assert status == 0, err
    status, _, err = run_task([*dpo, "--prompts", "40", "--new-tokens", "4", "--run-dir", str(tmp_path / "dpo-run"),
                               "--export-dir", str(tmp_path / "dpo")], capsys)
    assert status == 2 and "started with other settings: reward_files" in err  # its pairs were the old reward's
    generate = run_python("-m", "tasks.gpt", "generate", "", "--max-new-tokens", "5", "--export-dir",
                          str(tmp_path / "dpo"))
    assert generate.returncode == 0, generate.stderr[-3000:]  # an empty prompt is answered too

    broken = tmp_path / "broken-sft" / "1"  # the SFT export's copy: another export than the one DPO tuned
    shutil.copytree(export_dir / "1", broken)
    evaluate = ["evaluate", "--sft-export", str(broken), "--reward-export", str(reward_dir), "--judge-export",
                str(classifier), *data, "--run-dir", str(tmp_path / "evaluation")]
    status, _, err = run_task([*evaluate, "--policy-export", str(tmp_path / "dpo")], capsys)
    assert status == 2 and "was tuned from" in err and err.count("\n") == 1
    (broken / "model.keras").write_bytes(b"not a model")  # now its weights are unreadable too
    status, _, err = run_task(evaluate, capsys)
    assert status == 2 and "model.keras changed since it was exported" in err and err.count("\n") == 1
    assert not (tmp_path / "evaluation").exists()  # no run folder until every model is loaded

    status, _, err = run_task(["ppo", "--sft-export", str(export_dir), "--reward-export", str(reward_dir), *data,
                               "--prompts", "48", "--rollouts", "12", "--batch-size", "8", "--run-dir",
                               str(tmp_path / "refused")], capsys)
    assert status == 2 and "--rollouts 12 is not a multiple of --batch-size 8" in err and err.count("\n") == 1
    assert not (tmp_path / "refused").exists()  # refused before the run opened


def reads_markup_as_its_reviews_had_it(export, capsys):
    """Asserts that a GPT of the cleaned reviews continues a review pasted from a page (HTML line breaks and escapes)
    as the same review cleaned, with no unknown token noted (its reviews were cleaned so), up to the review's end."""
    pasted = "A wonderful film&hellip;<br /><br />the acting is superb."
    cleaned = "A wonderful film... the acting is superb."
    answers = [run_cli(gpt_task.main, ["generate", prompt, "--max-new-tokens", "8", "--seed", "3", "--export-dir",
                                       str(export)], capsys) for prompt in (pasted, cleaned)]
    assert [answer[0] for answer in answers] == [0, 0] and answers[0][2] == "", answers[0][2]
    assert answers[0][1].removeprefix(pasted) == answers[1][1].removeprefix(cleaned)
    assert answers[0][1].count("\n") == 1  # the line the command prints: the completion ends with its review


def test_the_sft_model_reads_a_pasted_reviews_markup_as_its_training_reviews_had_it(tiny_sft, capsys):
    reads_markup_as_its_reviews_had_it(tiny_sft.export, capsys)
    inputs = json.loads((tiny_sft.export / "1" / "export.json").read_text())["inputs"]
    assert "prompt: string [] (invalid UTF-8 replaced; read as a review's opening" in inputs  # a client is told


@pytest.mark.real_data
def test_reward_ppo_and_evaluate_on_a_slice_of_the_real_reviews(tiny_sft, real_imdb_dir, tmp_path, capsys):
    """The stages after SFT on real reviews, from the tiny SFT model (`rlhf sft` on the tiny archive; its subwords
    spell any text), judged by an nb-bow classifier of 2,000 real reviews."""
    data, sft = ["--data-dir", str(real_imdb_dir)], tiny_sft.export
    reward = tmp_path / "reward"
    status, out, err = run_task(["reward", "--sft-export", str(sft), "--train-examples", "400", "--test-reviews",
                                 "400", *data, "--run-dir", str(tmp_path / "reward-run"), "--export-dir", str(reward)],
                                capsys)
    assert status == 0, err
    test = json.loads((tmp_path / "reward-run" / "metrics.json").read_text())["test"]
    assert 0 <= test["pairwise_accuracy"] <= 1 and test["clear_pairs"] < test["pairs"] == 20_000

    ppo = ["ppo", "--sft-export", str(sft), "--reward-export", str(reward), *data, "--prompts", "64", "--new-tokens",
           "6", "--epochs", "2", "--batch-size", "8", "--ppo-epochs", "1"]
    status, out, err = run_task([*ppo, "--rollouts", "16", "--run-dir", str(tmp_path / "ppo-run"), "--export-dir",
                                 str(tmp_path / "ppo")], capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "ppo-run" / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["last_iteration"]["kl"] > 0  # the second rollout is the policy's own
    assert {"score", "kl", "entropy", "kl_coefficient"} <= set(metrics["last_iteration"])
    assert "Iterations" in (tmp_path / "ppo-run" / "report.md").read_text()
    assert json.loads((tmp_path / "ppo" / "1" / "export.json").read_text())["tuning"]["method"] == "PPO"

    evaluate = ["evaluate", "--sft-export", str(sft), "--reward-export", str(reward), *data, "--prompts", "8",
                "--new-tokens", "6", "--best-of", "2"]
    status, _, err = run_task([*evaluate, "--judge-export", str(tmp_path / "no-judge")], capsys)
    assert status == 2 and "python -m tasks.imdb" in err and err.count("\n") == 1
    judge = tmp_path / "judge"
    status, _, err = run_cli(imdb_task.main, ["--model", "nb-bow", "--train-examples", "2000", "--test-examples",
                                              "500", "--epochs", "2", *data, "--run-dir", str(tmp_path / "judge-run"),
                                              "--export-dir", str(judge)], capsys)
    assert status == 0, err
    evaluate += ["--judge-export", str(judge)]
    status, _, err = run_task([*evaluate, "--policy-export", str(sft)], capsys)
    assert status == 2 and "not a tuned policy" in err and err.count("\n") == 1
    status, _, err = run_task([*evaluate, "--reward-export", str(judge)], capsys)  # the last --reward-export counts
    assert status == 2 and "is a reward the policies are measured or were tuned against" in err
    status, _, err = run_task([*evaluate, "--prompts", "25001", "--run-dir", str(tmp_path / "refused")], capsys)
    assert status == 2 and "--prompts 25,001: there are only 25,000 reviews in IMDB's test split" in err
    assert not (tmp_path / "refused").exists()
    status, _, err = run_task([*evaluate, "--policy-export", str(tmp_path / "ppo"), str(tmp_path / "ppo" / "1")],
                              capsys)
    assert status == 2 and "twice: give each policy once" in err and err.count("\n") == 1
    status, out, err = run_task([*evaluate, "--policy-export", str(tmp_path / "ppo"), "--run-dir",
                                 str(tmp_path / "evaluation")], capsys)
    assert status == 0, err
    frontier = json.loads((tmp_path / "evaluation" / "frontier.json").read_text())
    assert (frontier["judge"], frontier["reward"]) == (str((judge / "1").resolve()), str((reward / "1").resolve()))
    assert frontier["sft"] == str((sft / "1").resolve())
    sft_point, best_of_2, tuned = frontier["points"]
    assert tuned["method"] == "PPO" and tuned["iterations"] == 2 and math.isfinite(tuned["kl"])
    assert tuned["export"] == str((tmp_path / "ppo" / "1").resolve())
    assert sft_point["method"] == "SFT" and sft_point["kl"] == 0.0 and 0 <= sft_point["judge"] <= 1
    assert best_of_2["n"] == 2 and best_of_2["kl"] == pytest.approx(math.log(2) - 0.5)
    assert best_of_2["reward"] >= sft_point["reward"] - 1e-6  # the best of two includes the SFT row's sample
    assert "The reward–KL frontier" in (tmp_path / "evaluation" / "report.md").read_text()
    assert (tmp_path / "evaluation" / "frontier.png").read_bytes()[:4] == b"\x89PNG"
