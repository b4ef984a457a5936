"""The exports the stages hand each other: a missing one is named with the command that makes it; a learned
reward or a policy made from another SFT model, a judge that is a reward the policies were measured or tuned
against, responses longer than the context and an evaluation already made are refused."""

import json
from types import SimpleNamespace

import keras
import pytest

from keras_apps.errors import UserError
from keras_apps.preference import stages


def test_a_missing_reward_export_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(UserError, match=r"no reward export at .* `python -m tasks.rlhf reward`"):
        stages.reward_stage(tmp_path / "none", sft=None, tokenizer=None)


def fake_export(version, metadata, tokenizer=None):
    """An export version's files that the stages read before loading a model (its model.keras empty)."""
    version.mkdir(parents=True)
    (version / "export.json").write_text(json.dumps(metadata))
    (version / "model.keras").write_bytes(b"")
    (version / "saved_model.pb").write_bytes(b"")
    if tokenizer is not None:
        (version / "tokenizer.json").write_text(json.dumps({"kind": "wordpiece", "vocabulary": tokenizer}))


@pytest.mark.parametrize("metadata, message", [
    ({"tokenizer": "char"}, "is a GPT of char tokens, not the SFT model of reviews"),
    ({"tokenizer": "wordpiece", "text": {"file": "tinyshakespeare.txt", "fingerprint": "f"}},
     "is a GPT of wordpiece tokens of tinyshakespeare.txt, not the SFT model of reviews"),
    ({"tokenizer": "wordpiece", "tuning": {"method": "DPO", "sft_export": "saved_models/rlhf-sft/1"}},
     "is a policy tuned by DPO from saved_models/rlhf-sft/1, not an SFT model: give that one"),
])
def test_a_gpt_that_did_not_learn_the_reviews_in_subwords_is_no_sft_model(tmp_path, metadata, message):
    fake_export(tmp_path / "gpt" / "1", {"task": "gpt", **metadata}, tokenizer=["[PAD]", "a"])
    with pytest.raises(UserError, match=message):
        stages.sft_stage(tmp_path / "gpt")


def test_a_learned_reward_of_another_sft_models_subwords_is_refused(tmp_path):
    sft = SimpleNamespace(path=tmp_path / "sft" / "1")
    fake_export(sft.path, {"task": "gpt"}, tokenizer=["[PAD]", "a", "b"])
    fake_export(tmp_path / "reward" / "1", {"task": "rlhf-reward"}, tokenizer=["[PAD]", "a", "c"])
    with pytest.raises(UserError, match="was trained from another SFT model"):
        stages.reward_stage(tmp_path / "reward", sft, tokenizer=None)
    fake_export(tmp_path / "same" / "1", {"task": "rlhf-reward"}, tokenizer=["[PAD]", "a", "b"])
    with pytest.raises(UserError, match="is not a whole .keras archive"):  # past the check, to the (empty) model
        stages.reward_stage(tmp_path / "same", sft, tokenizer=None)


def test_the_reward_is_the_version_it_was_loaded_from(tmp_path, monkeypatch):
    from keras_apps.export import saved_model

    sft = SimpleNamespace(path=tmp_path / "sft" / "1")
    fake_export(sft.path, {"task": "gpt"}, tokenizer=["a"])
    for version in ("1", "2"):
        fake_export(tmp_path / "reward" / version, {"task": "rlhf-reward"}, tokenizer=["a"])
    monkeypatch.setattr(saved_model, "load_keras_model", lambda path, task: (path, keras.Sequential()))
    assert stages.reward_stage(tmp_path / "reward", sft, tokenizer=None).export == (tmp_path / "reward" / "2").resolve()


def test_a_resumed_stage_goes_on_with_the_sft_model_and_reward_it_started_with_whatever_is_published_since(
        tmp_path, monkeypatch):
    """A newer SFT model or reward published while a run was stopped made its rerun refuse itself (its recorded
    settings named the older versions) and it could be resumed only by naming those versions."""
    from keras_apps.data.imdb import REVIEW_CORPUS
    from keras_apps.export import saved_model
    from keras_apps.training.run_directory import RunDirectory

    sft_export = {"task": "gpt", "tokenizer": "wordpiece", "text": {"file": REVIEW_CORPUS, "fingerprint": "f"}}
    for version in ("1", "2"):
        fake_export(tmp_path / "sft" / version, sft_export, tokenizer=["[PAD]", "[UNK]", "[NL]", "a"])
        fake_export(tmp_path / "reward" / version, {"task": "rlhf-reward"}, tokenizer=["[PAD]", "[UNK]", "[NL]", "a"])
    monkeypatch.setattr(saved_model, "load_keras_model", lambda path, task: (path, keras.Sequential()))
    run = tmp_path / "run"
    run.mkdir()
    RunDirectory(run).write_config({"init_from": str(tmp_path / "sft" / "1"),
                                    "reward_export": str((tmp_path / "reward" / "1").resolve())})
    sft, _ = stages.sft_stage(tmp_path / "sft", run)
    assert sft.path == tmp_path / "sft" / "1"
    assert stages.reward_stage(tmp_path / "reward", sft, None, run).export == (tmp_path / "reward" / "1").resolve()
    assert stages.sft_stage(tmp_path / "sft", tmp_path / "new run")[0].path == tmp_path / "sft" / "2"


def test_a_policy_tuned_from_another_sft_model_is_refused(tmp_path):
    fake_export(tmp_path / "policy" / "1", {"task": "gpt", "tuning": {"sft_export": str(tmp_path / "sft" / "1")}})
    assert stages.policy_stage(tmp_path / "policy", SimpleNamespace(path=tmp_path / "sft" / "1")).metadata["tuning"]
    with pytest.raises(UserError, match="was tuned from .* not from --sft-export"):
        stages.policy_stage(tmp_path / "policy", SimpleNamespace(path=tmp_path / "sft" / "2"))


def test_a_policy_tuned_from_an_sft_model_remade_in_its_folder_since_is_refused(tmp_path):
    """The SFT folder deleted and made again (as the pipeline's own advice says): the same path, other weights,
    and the policy's KL was measured against a model it never started from."""
    sft = tmp_path / "sft" / "1"
    fake_export(tmp_path / "policy" / "1", {"task": "gpt", "tuning": {"sft_export": str(sft), "sft_weights": "a1"}})
    remade = SimpleNamespace(path=sft, record=lambda: {"init_from_weights": "b2"})
    with pytest.raises(UserError, match=r"was tuned from another SFT model than the one now at .*sft.1 \(its weights "
                                        r"differ\): tune it again from this one"):
        stages.policy_stage(tmp_path / "policy", remade)
    same = SimpleNamespace(path=sft, record=lambda: {"init_from_weights": "a1"})
    assert stages.policy_stage(tmp_path / "policy", same).metadata["tuning"]["sft_weights"] == "a1"


@pytest.mark.parametrize("command, use", [
    (lambda copy: stages.evaluation_start(SimpleNamespace(run_dir=None, sft_export=copy)), "evaluate against"),
    (lambda copy: stages.policy_stage(copy, sft=None), "evaluate"),
    (lambda copy: stages.tuning_start(SimpleNamespace(run_dir=None, sft_export=copy), "dpo", None), "tune from"),
    (stages.sft_stage, "train from"),  # a reward model's or a GPT classifier's
])
def test_a_compressed_copy_is_refused_naming_what_the_command_was_asked_to_do(tmp_path, command, use):
    """`rlhf evaluate --policy-export` of a compressed policy was told to "train from the export it copies"."""
    fake_export(tmp_path / "copy" / "1", {"task": "gpt", "quantization": "int8", "run_id": "c-dpo/int8/1"})
    with pytest.raises(UserError, match=rf"copy.1 is a compressed copy \(c-dpo/int8/1\); {use} the export it copies$"):
        command(tmp_path / "copy")


@pytest.mark.parametrize("tuned_against", [None, "judge"])
def test_the_judge_cannot_be_a_reward_of_the_evaluation_or_of_a_policy(tmp_path, tuned_against):
    (tmp_path / "judge").mkdir()
    reward = "judge" if tuned_against is None else "reward"
    policy = SimpleNamespace(metadata={"tuning": {"reward_export": str(tmp_path / (tuned_against or "reward"))}})
    with pytest.raises(UserError, match="is a reward the policies are measured or were tuned against"):
        stages.judge_stage(tmp_path / "judge", tmp_path / reward, [policy])


@pytest.mark.parametrize("judge, reward, tuned_against", [("judge/1", "judge", None), ("judge", "judge/1", None),
                                                            ("judge", "reward", "judge/1")])
def test_the_judge_cannot_be_a_reward_named_by_its_version_folder(tmp_path, judge, reward, tuned_against):
    fake_export(tmp_path / "judge" / "1", {"task": "imdb"})
    policy = SimpleNamespace(metadata={"tuning": {"reward_export": str(tmp_path / (tuned_against or reward))}})
    with pytest.raises(UserError, match="is a reward the policies are measured or were tuned against"):
        stages.judge_stage(tmp_path / judge, tmp_path / reward, [policy])


def test_a_judge_that_learned_from_the_reward_s_kind_of_model_is_refused(tmp_path):
    """IMDB's Transformer by default learns from an nb-bow teacher's verdicts: judging policies tuned against
    nb-bow, it is a student of the reward it checks (the pipeline trains its judge without a teacher)."""
    fake_export(tmp_path / "reward" / "1", {"task": "imdb", "model": "nb-bow"})
    fake_export(tmp_path / "student" / "1", {"task": "imdb", "model": "transformer", "teacher": "nb-bow"})
    policy = SimpleNamespace(metadata={"tuning": {"reward_export": str(tmp_path / "reward" / "1")}})
    with pytest.raises(UserError, match=r"--judge-export .*student learned from an nb-bow teacher's verdicts, the "
                                        r"model the policies are measured or tuned against"):
        stages.judge_stage(tmp_path / "student", tmp_path / "learned-reward", [policy])
    fake_export(tmp_path / "alone" / "1", {"task": "imdb", "model": "transformer", "teacher": "none"})
    fake_export(tmp_path / "older" / "1", {"task": "imdb", "model": "transformer"})  # made before it was recorded
    for judge in ("alone", "older"):
        with pytest.raises(UserError, match="cannot load the SavedModel"):  # past the checks, to its empty model
            stages.judge_stage(tmp_path / judge, tmp_path / "learned-reward", [])


def test_a_judge_of_the_reward_s_kind_of_model_is_refused(tmp_path):
    """Another nb-bow, or a copy of the reward: its verdicts are the reward's own, and a policy tuned against
    them would look as good to the judge as to the reward."""
    fake_export(tmp_path / "reward" / "1", {"task": "imdb", "model": "nb-bow"})
    fake_export(tmp_path / "another" / "1", {"task": "imdb", "model": "nb-bow", "teacher": "none"})
    policy = SimpleNamespace(metadata={"tuning": {"reward_export": str(tmp_path / "reward" / "1")}})
    for rewards in ((tmp_path / "reward", []), (tmp_path / "learned-reward", [policy])):
        with pytest.raises(UserError, match=r"--judge-export .*another is an nb-bow classifier, the kind of model the "
                                            r"policies are measured or tuned against: judge them by another kind"):
            stages.judge_stage(tmp_path / "another", *rewards)


def test_the_judge_loaded_is_the_version_checked_whatever_is_published_meanwhile(tmp_path, monkeypatch):
    from keras_apps.export import saved_model

    fake_export(tmp_path / "judge" / "1", {"task": "imdb", "model": "transformer", "teacher": "none"})

    def load_serving(handle, task):  # a student of the reward's kind published between the checks and the load
        fake_export(tmp_path / "judge" / "2", {"task": "imdb", "model": "transformer", "teacher": "nb-bow"})
        return saved_model.resolve_version(handle), "the judge's serve"

    monkeypatch.setattr(saved_model, "load_serving", load_serving)
    fake_export(tmp_path / "reward" / "1", {"task": "imdb", "model": "nb-bow"})
    version, _ = stages.judge_stage(tmp_path / "judge", tmp_path / "reward", [])
    assert version == (tmp_path / "judge" / "1").resolve()


def test_responses_must_fit_the_sft_models_context_after_the_longest_prompt():
    sft = SimpleNamespace(metadata={"model": {"context_length": 16}})
    stages.check_new_tokens(sft, 7)  # [NL], 8 subwords of prompt and 7 new: 16
    with pytest.raises(UserError, match="--new-tokens 8 does not fit the SFT model's context of 16.*at most 7"):
        stages.check_new_tokens(sft, 8)


def test_an_evaluation_is_never_written_over(tmp_path):
    (tmp_path / "frontier.json").write_text("{}")
    args = SimpleNamespace(run_dir=str(tmp_path), sft_export=str(tmp_path / "none"))
    with pytest.raises(UserError, match="holds an evaluation already: give a new --run-dir"):
        stages.evaluation_start(args)


def test_a_missing_judge_names_the_task_that_trains_one(tmp_path):
    with pytest.raises(UserError, match="train one with `python -m tasks.imdb`"):
        stages.judge_stage(tmp_path / "none", tmp_path / "reward", [])


def test_a_tuning_run_draws_its_prompts_with_its_own_seed(tmp_path, monkeypatch):
    import tensorflow as tf

    from keras_apps import files, lifecycle, recipes
    from keras_apps.data import imdb

    class Tokenizer:
        def tokenize(self, texts):
            return tf.tile(tf.range(3, 20)[tf.newaxis], [tf.shape(texts)[0], 1])

    monkeypatch.setattr(stages, "sft_stage", lambda *args, **kwargs: (SimpleNamespace(record=dict), Tokenizer()))
    monkeypatch.setattr(stages, "check_new_tokens", lambda *args: None)
    monkeypatch.setattr(stages, "reward_stage", lambda *args: SimpleNamespace(export=tmp_path))
    monkeypatch.setattr(lifecycle, "start_run", lambda *args, **kwargs: None)
    monkeypatch.setattr(files, "digest", lambda path: "0" * 64)
    monkeypatch.setattr(imdb, "load", lambda data_dir: SimpleNamespace(
        take=lambda split, count, flag: SimpleNamespace(texts=["a review"] * count)))
    args = SimpleNamespace(sft_export=None, reward_export=None, run_dir=None, export_dir=None, data_dir=None,
                           prompts=16, new_tokens=4)
    lengths = []
    for seed in (0, 1):
        monkeypatch.setattr(recipes, "overlaid", lambda recipe, args: SimpleNamespace(
            training=SimpleNamespace(seed=seed)))
        lengths.append([len(prompt) for prompt in stages.tuning_start(args, "rlhf-dpo", None)[5]])
    assert lengths[0] != lengths[1]
