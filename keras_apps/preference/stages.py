"""The exports the stages of preference tuning hand to each other (`python -m tasks.rlhf`), read back with a
one-line error that names the command making a missing one; what a tuning stage (DPO, PPO) starts from; and
the exports the stages make, with their model cards' words.

The SFT model is a GPT export in subwords; the reward an export of `rlhf-reward` (made from the same SFT
model: it reads its tokens) or an IMDB classifier's; the judge any other IMDB classifier export; a tuned policy a
GPT export (so `python -m tasks.gpt generate` serves it) that records its `tuning`: the method, its settings, the
SFT export it started from (and its weights' digest: an SFT model remade into its folder since is another) and
the reward's export version (a reward retrained into its folder since is another).
"""

from pathlib import Path

from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText

REWARD_TASK = "rlhf-reward"
# The most samples of one prompt that DPO's pairs (--candidates) and best-of-N (--best-of) draw: past these, the
# samples would take hours or exhaust memory rather than teach anything.
MOST_CANDIDATES, MOST_BEST_OF = 64, 256
# How DPO labels a pair (--labels): `hard`, the chosen always preferred; `reward`, as likely as the reward says.
DPO_LABELS = ("hard", "reward")
# What a tuned policy's export keeps of its SFT export's record: the model's shape, tokenizer and serving, and the
# text it learned (which `gpt compress` measures it on).
KEPT = ("model", "tokenizer", "sampler", "top_k", "top_p", "inputs", "outputs", "recipe", "text")
# The model cards' words for the exports of the stages (their figures come from each run).
POLICY_CARD = CardText(
    description="A GPT of movie reviews tuned by preference (RLHF) to continue a review's opening positively: a "
    "prompt in, a continuation out.",
    data="Tuned from the SFT model of IMDB's training and unlabeled reviews, on its own continuations of training "
    "reviews' openings, rewarded by a reward model learned from the reviewers' star ratings or by a sentiment "
    "classifier (the export's tuning record names which).",
    intended_use="Teaching preference tuning (DPO, PPO) and its trade-off of reward against drift from the "
    "reference model, measured by a judge no tuning step saw.",
    limits="A 4M-parameter model: it writes review-shaped text that wanders and repeats; positivity was "
    "optimized against a learned reward, which a policy can game (see the evaluation's judge against reward).",
)
REWARD_CARD = CardText(
    description="A reward model: a movie review's opening in, a number out, higher for what the review's writer "
    "would rate higher. The blocks of a GPT of reviews with a linear head on the last token.",
    data="IMDB's 25,000 training reviews (Maas et al., 2011) with their writers' star ratings (1-4 and 7-10); a "
    "tenth held out for validation. Each review is read from its start, as far as the model's context.",
    intended_use="The reward of preference tuning (RLHF) in this suite's teaching pipeline, and a demonstration of "
    "learning a reward from human judgments (Bradley-Terry).",
    limits="It judges the opening of a review only, in English, of movies; it learned sentiment as star ratings "
    "express it, and a policy optimized against it can find texts it scores high that no person would (reward "
    "hacking): judge tuned policies with another model.",
)


def _missing(handle, command):
    if not Path(handle).exists():
        raise UserError(f"no {command} export at {handle}: make it with `python -m tasks.rlhf {command}`, or name "
                        f"one with --{command}-export")


def sft_stage(handle, run_dir=None, use="train from"):
    """`(ExportStart, tokenizer)` of the SFT export at `handle`, which the command is to `use` (for a run resumed
    in `run_dir`, the version it started from: `from_export`)."""
    from keras_apps.data.imdb import REVIEW_CORPUS
    from keras_apps.text.characters import load_tokenizer
    from keras_apps.training.init_from import from_export

    _missing(handle, "sft")
    start = from_export(handle, "gpt", run_dir=run_dir, use=use)
    if "tuning" in start.metadata:  # a policy exported into the SFT model's folder would be every stage's reference
        raise UserError(f"{start.path} is a policy tuned by {start.metadata['tuning'].get('method')} from "
                        f"{start.metadata['tuning'].get('sft_export')}, not an SFT model: give that one")
    text = start.metadata.get("text")  # what it learned: exports made before this was recorded say only tokens
    if start.metadata.get("tokenizer") != "wordpiece" or (text and text["file"] != REVIEW_CORPUS):
        learned = f" of {text['file']}" if text else ""
        raise UserError(f"{start.path} is a GPT of {start.metadata.get('tokenizer')} tokens{learned}, not the SFT "
                        f"model of reviews (`python -m tasks.rlhf sft` makes one)")
    return start, load_tokenizer(start.path / "tokenizer.json")


def check_new_tokens(sft, new_tokens):
    """Refuses, before any run folder opens, responses that would not fit the SFT model's context after the
    longest prompt (`[NL]` and up to `evaluation.PROMPT_LENGTHS[1]` subwords)."""
    from keras_apps.preference.evaluation import PROMPT_LENGTHS

    room = sft.metadata["model"]["context_length"] - 1 - PROMPT_LENGTHS[1]
    if new_tokens > room:
        raise UserError(f"--new-tokens {new_tokens} does not fit the SFT model's context of "
                        f"{sft.metadata['model']['context_length']} after a prompt: give at most {room}")


def _tokenizer_record(version_path):
    try:
        return (Path(version_path) / "tokenizer.json").read_text(encoding="utf-8")
    except OSError:
        return None


def reward_stage(handle, sft, tokenizer, run_dir=None):
    """The reward (`rewards`) of the export at `handle`, its `export` the version loaded: a reward model
    (`rlhf-reward`), which reads tokens and so must share the SFT model's (`sft`) subwords, or an IMDB classifier
    whose log-odds of a positive review is the reward; `tokenizer` (the SFT model's) writes samples back as text.
    A run resumed in `run_dir` is tuned by the version it recorded (`recorded_version`), not one published since."""
    from keras_apps.export.saved_model import (
        export_metadata, load_keras_model, load_serving, resolve_task_export, resolve_version,
    )
    from keras_apps.preference import models  # noqa: F401 - registers the reward model's layers
    from keras_apps.preference.rewards import ClassifierReward, LearnedReward
    from keras_apps.training.init_from import recorded_version

    _missing(handle, "reward")
    # Resolved once: a version published meanwhile is not loaded unchecked.
    version = resolve_version(recorded_version(handle, run_dir, "reward_export"))
    if export_metadata(version).get("task") == "imdb":
        _, serve = load_serving(version, task="imdb")
        return ClassifierReward(serve, tokenizer, export=version.resolve())
    version = resolve_task_export(version, REWARD_TASK)
    if _tokenizer_record(version) != _tokenizer_record(sft.path):
        raise UserError(f"--reward-export {version} was trained from another SFT model than {sft.path} (its subwords "
                        f"differ): give that one's reward, or make one with `python -m tasks.rlhf reward`")
    return LearnedReward(load_keras_model(version, REWARD_TASK)[1], export=version.resolve())


def policy_stage(handle, sft):
    """The `ExportStart` of a tuned policy's export at `handle`, tuned from the SFT export `sft`."""
    from keras_apps.training.init_from import from_export

    start = from_export(handle, "gpt", use="evaluate")
    if "tuning" not in start.metadata:
        raise UserError(f"{start.path} is a GPT export but not a tuned policy (`python -m tasks.rlhf dpo` makes one)")
    tuned_from = start.metadata["tuning"].get("sft_export")
    if tuned_from is None or Path(tuned_from).resolve() != sft.path.resolve():
        raise UserError(f"--policy-export {start.path} was tuned from {tuned_from}, not from --sft-export "
                        f"{sft.path}: give the SFT export it was tuned from")
    weights = start.metadata["tuning"].get("sft_weights")
    if weights is not None and weights != sft.record()["init_from_weights"]:  # remade in the same folder since
        raise UserError(f"--policy-export {start.path} was tuned from another SFT model than the one now at "
                        f"{sft.path} (its weights differ): tune it again from this one")
    return start


def judge_stage(handle, reward_handle, policies):
    """`(version, serve)` of the IMDB classifier export at `handle` that judges policies' samples: neither the
    reward they are measured by (`reward_handle`) nor one that any of `policies` (`policy_stage`s) was tuned
    against, nor a model of a reward's kind or its student, so that it is a judge no tuning step saw. The version
    checked is the version loaded, whatever is published into the folder meanwhile."""
    from keras_apps.export.saved_model import export_metadata, load_serving

    if not handle or not Path(handle).exists():
        raise UserError(f"no judge export at {handle}: train one with `python -m tasks.imdb` (any IMDB classifier "
                        f"export judges), then name it with --judge-export")
    version = _version(handle)
    rewards = [reward_handle, *(policy.metadata["tuning"].get("reward_export", reward_handle) for policy in policies)]
    if any(version == _version(reward) for reward in rewards):
        raise UserError(f"--judge-export {handle} is a reward the policies are measured or were tuned against: judge "
                        f"them by another classifier")
    recorded = export_metadata(version)
    reward_models = {_model_of(reward) for reward in rewards} - {None}
    if recorded.get("model") in reward_models:  # a copy of the reward, or its kind trained again: the same verdicts
        raise UserError(f"--judge-export {handle} is an {recorded['model']} classifier, the kind of model the "
                        f"policies are measured or tuned against: judge them by another kind (`python -m "
                        f"tasks.imdb --model transformer --teacher none`)")
    teacher = recorded.get("teacher")  # "none", or None in older exports
    if teacher in reward_models:  # its verdicts learned from the reward's kind
        raise UserError(f"--judge-export {handle} learned from an {teacher} teacher's verdicts, the model the "
                        f"policies are measured or tuned against: judge them by a classifier trained without it "
                        f"(`python -m tasks.imdb --teacher none`)")
    return load_serving(version, task="imdb")


def _model_of(reward):
    """The model an IMDB classifier export used as a reward is (`nb-bow`, ...); None for a learned reward or one
    since removed."""
    from keras_apps.export.saved_model import export_metadata

    try:
        recorded = export_metadata(_version(reward))
    except UserError:
        return None
    return recorded.get("model") if recorded.get("task") == "imdb" else None


def _version(handle):
    """The export version a handle (an export folder or one of its versions) names, as an absolute path; the
    handle itself where it holds none (a record of an export since removed)."""
    from keras_apps.export.saved_model import resolve_version

    try:
        return resolve_version(handle).resolve()
    except UserError:
        return Path(handle).resolve()


def evaluation_start(args):
    """What `evaluate` measures, by its command line `args`, every export loaded and checked before its run folder
    opens: `(the SFT export's version, its model, its tokenizer, the reward, the judge's (version, serve), the
    policies' (version, method, settings, model))`, each policy given once;
    a run folder that holds an evaluation already is refused, not overwritten."""
    from keras_apps.export.saved_model import check_outside_exports

    if args.run_dir:
        check_outside_exports(args.run_dir, "--run-dir")
        if (Path(args.run_dir) / "frontier.json").exists():
            raise UserError(f"--run-dir {args.run_dir} holds an evaluation already: give a new --run-dir")
    sft, tokenizer = sft_stage(args.sft_export, use="evaluate against")
    check_new_tokens(sft, args.new_tokens)
    reward = reward_stage(args.reward_export, sft, tokenizer)
    tuned = [policy_stage(handle, sft) for handle in args.policy_export]  # every export checked before the data
    versions = [start.path.resolve() for start in tuned]
    for version in versions:
        if versions.count(version) > 1:  # its rows and examples would be told apart by nothing
            raise UserError(f"--policy-export names {version} twice: give each policy once")
    judge = judge_stage(args.judge_export, reward.export, tuned)
    policies = [(version, start.metadata["tuning"]["method"], start.metadata["tuning"]["settings"],
                 start.build_model()) for version, start in zip(versions, tuned)]
    return sft.path.resolve(), sft.build_model(), tokenizer, reward, judge, policies


def tuning_start(args, task, recipe):
    """What DPO and PPO start from, by their command line `args`: the SFT model and its tokenizer, the reward
    (`reward_stage`), the training config, the run (started, not yet open), the openings of `--prompts` training reviews
    (`evaluation.review_prompts`), and the settings the run records."""
    from keras_apps.data import imdb
    from keras_apps.files import digest
    from keras_apps.lifecycle import start_run
    from keras_apps.preference.evaluation import review_prompts
    from keras_apps.recipes import overlaid

    sft, tokenizer = sft_stage(args.sft_export, args.run_dir, use="tune from")
    check_new_tokens(sft, args.new_tokens)
    reward = reward_stage(args.reward_export, sft, tokenizer, args.run_dir)
    config = overlaid(recipe, args).training
    run = start_run(task, config, run_dir=args.run_dir, export_dir=args.export_dir, export_task="gpt",
                    export_kind={"tuned_by": task})  # not into the SFT model's folder, nor another method's
    training_reviews = imdb.load(args.data_dir).take("train", args.prompts, "--prompts").texts
    prompts = review_prompts(tokenizer, training_reviews, seed=config.seed)
    settings = {**sft.record(), "reward_export": str(reward.export), "reward_files": digest(reward.export)[:16],
                "prompts": args.prompts, "new_tokens": args.new_tokens}
    return sft, tokenizer, reward, config, run, prompts, settings


def reward_export(reward_model, tokenizer, sft, length):
    """The `Export` of a reward model: `score` (texts in, rewards out), reading each text's first `length`
    tokens with the SFT export's tokenizer."""
    import tensorflow as tf

    from keras_apps.inference.serving import reward_endpoint
    from keras_apps.lifecycle import Export

    score, signature = reward_endpoint(reward_model, tokenizer, length)
    return Export({"score": (tf.function(score, input_signature=signature), signature)}, track=[tokenizer],
                  files=[sft.path / "tokenizer.json"],
                  metadata={"sft_export": str(sft.path), "length": length, "inputs": "texts: string [batch]",
                            "outputs": "reward: float32 [batch] (higher: preferred)"})


def policy_export(policy, tokenizer, sft, tuning, reward, task):
    """The `Export` of a tuned `policy` (a `build_gpt` model): `generate` as every GPT export serves it, with the
    SFT export's record and `tuning` (`{"method", "settings"}`), beside the export version of the `reward`; the
    tuning run's `task` is its kind (`tuned_by`, see `tuning_start`)."""
    import tensorflow as tf

    from keras_apps.inference.serving import recorded_generation_endpoint
    from keras_apps.lifecycle import Export

    generate, signature = recorded_generation_endpoint(policy, tokenizer, sft.metadata)
    return Export({"generate": (tf.function(generate, input_signature=signature), signature)}, track=[tokenizer],
                  files=[sft.path / "tokenizer.json"],
                  metadata={**{key: sft.metadata[key] for key in KEPT if key in sft.metadata}, "task": "gpt",
                            "tuned_by": task,
                            "tuning": {**tuning, "sft_export": str(sft.path.resolve()),
                                       "sft_weights": sft.record()["init_from_weights"],
                                       "reward_export": str(reward.export)}})
