"""Preference tuning (RLHF) of a GPT that writes movie reviews, after Ziegler et al. (2019) and the DPO paper's
controlled-sentiment experiment: a policy continues the opening words of a review, and is tuned to write
positively without drifting far from the model it started as. Each stage is a command; each hands the next
an export (`keras_apps.preference.stages`).

    python -m tasks.rlhf sft          # 1. the reference model: the GPT task on IMDB's training and unlabeled reviews
    python -m tasks.rlhf reward       # 2. a reward model from the reviewers' star ratings (Bradley-Terry)
    python -m tasks.rlhf ppo          # 3. PPO against the reward, with a KL penalty to the SFT model
    python -m tasks.rlhf dpo --beta 0.1   # 3'. DPO on pairs of the SFT model's samples, preferred by the reward
    python -m tasks.rlhf evaluate --judge-export saved_models/imdb --policy-export saved_models/rlhf-dpo
    python -m tasks.rlhf              # the pipeline: every stage, tuning against IMDB's nb-bow classifier
"""

import dataclasses
from pathlib import Path

from keras_apps import cli
from keras_apps.preference import stages
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK, PIPELINE_RUN_DIR = "rlhf", "runs/rlhf-pipeline"
SFT_EXPORT_DIR, REWARD_EXPORT_DIR = "saved_models/rlhf-sft", "saved_models/rlhf-reward"
# The GPT task's default shape (4 blocks of width 256, context 128, bfloat16 computation) on the reviews.
SFT_STEPS, SFT_EVAL_INTERVAL = 1500, 250
# One pass over the training reviews' openings, from the SFT model's weights, in its precision.
REWARD_RECIPE = Recipe(None, TrainingConfig(epochs=1, batch_size=32, learning_rate=1e-4, weight_decay=0.01,
                                            precision="mixed_bfloat16"))
TEST_REVIEWS, TEST_PAIRS, CLEAR_GAP, EVALUATION_PROMPTS, NEW_TOKENS, BEST_OF = 5000, 20_000, 4, 500, 48, (4, 16)
# DPO: the best and worst of 4 samples make each pair, clearer than the paper's 2 (bench/NOTES.md).
DPO_TASK, DPO_EXPORT_DIR, DPO_PROMPTS, CANDIDATES = "rlhf-dpo", "saved_models/rlhf-dpo", 2000, 4
DPO_RECIPE = Recipe(None, TrainingConfig(epochs=2, batch_size=32, learning_rate=1e-4, weight_decay=0.0,
                                        precision="mixed_bfloat16"))
# PPO: an epoch is one iteration, `ROLLOUTS` fresh responses, then `PPO_EPOCHS` passes over them in minibatches.
PPO_TASK, PPO_EXPORT_DIR, PPO_PROMPTS, ROLLOUTS, PPO_EPOCHS = "rlhf-ppo", "saved_models/rlhf-ppo", 10_000, 256, 4
KL_TARGET, KL_COEFFICIENT, KL_HORIZON = 6.0, 0.2, 10_000  # β_KL steered towards KL_TARGET (Ziegler et al.)
MEASURE = "measure it on test prompts with `python -m tasks.rlhf evaluate --policy-export <export>`"
PPO_RECIPE = Recipe(None, TrainingConfig(epochs=28, batch_size=64, learning_rate=1e-4, weight_decay=0.0,
                                        lr_schedule="constant", gradient_clip_norm=1.0, jit_compile=True,
                                        precision="mixed_bfloat16"))


def pipeline(args):
    from keras_apps.preference.pipeline import preference_tuning, run_stages

    judge = args.judge_export or Path(args.exports) / "imdb-transformer"
    run_stages(preference_tuning(args.exports, judge, args.data_dir), args.run_dir)
    print(f"the frontier: {Path(args.run_dir) / 'evaluate' / 'report.html'}")
    return 0


def sft(args):
    from keras_apps.data import imdb
    from tasks import gpt

    corpus = imdb.review_corpus(args.data_dir)
    argv = ["train", "--text-file", str(corpus), "--tokenizer", "wordpiece", "--max-steps", str(args.max_steps),
            "--eval-interval", str(args.eval_interval), "--warmup-steps", str(min(100, args.max_steps // 10)),
            "--sample-tokens", str(args.sample_tokens), "--seed", str(args.seed), "--export-dir", args.export_dir]
    argv += ["--run-dir", args.run_dir] if args.run_dir else []
    print(f"SFT: the GPT task on {corpus.name} (IMDB's training and unlabeled reviews), in subwords", flush=True)
    return gpt.train(cli.parse_arguments(gpt.TASK, "", gpt.COMMANDS, argv))


def reward(args):
    from keras_apps import progress
    from keras_apps.data import imdb
    from keras_apps.evaluate.preference import write_reward_report
    from keras_apps.lifecycle import require_data, start_run
    from keras_apps.preference.models import build_reward_model, reward_objective
    from keras_apps.preference.openings import opening_splits, review_openings
    from keras_apps.preference.pairs import agreement
    from keras_apps.recipes import overlaid

    sft, tokenizer = stages.sft_stage(args.sft_export, args.run_dir)
    config = overlaid(REWARD_RECIPE, args).training
    run = start_run(stages.REWARD_TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)
    splits = imdb.run_splits(args.data_dir, validation_fraction=0.1, seed=config.seed, test_flag="--test-reviews",
                             train_examples=args.train_examples, test_examples=args.test_reviews)
    require_data(len(splits.train), len(splits.validation), config.batch_size, "reviews")
    length = sft.metadata["model"]["context_length"]
    run.open({**sft.record(), "length": length, **splits.sizes(), "data": splits.fingerprint()})
    train, validation = opening_splits(tokenizer, splits, "ratings", length, config.batch_size, seed=config.seed)
    result = run.fit(lambda: build_reward_model(sft.build_model()), train, validation, **reward_objective())
    if not result.is_chief:
        return 0
    print(f"Scoring {len(splits.test):,} test reviews", flush=True)
    rewards = result.model.predict(review_openings(tokenizer, splits.test.texts, length), batch_size=64,
                                   verbose=progress.verbosity())
    test, pairs = agreement(rewards, splits.test.ratings, TEST_PAIRS, clear_gap=CLEAR_GAP, seed=config.seed)
    return run.finish(
        result, "reward", stages.reward_export(result.model, tokenizer, sft, length), stages.REWARD_CARD,
        test_metrics=test,
        report=lambda metrics: write_reward_report(run.directory, metrics, rewards=rewards, pairs=pairs, splits=splits),
        summary=lambda metrics: (f"reward model: pairwise accuracy {test['pairwise_accuracy']:.4f} on {len(pairs):,} "
                                 f"pairs of test reviews, {test['pairwise_accuracy_clear']:.4f} on those rated "
                                 f"{CLEAR_GAP}+ points apart | {metrics['trained_for']}"),
    )


def dpo(args):
    from keras_apps.evaluate.preference import write_dpo_report
    from keras_apps.lifecycle import require_data
    from keras_apps.preference import dpo as pairs_of
    from keras_apps.preference.models import dpo_objective, dpo_trainer

    sft, tokenizer, reward, config, run, prompts, settings = stages.tuning_start(args, DPO_TASK, DPO_RECIPE)
    require_data(*pairs_of.pair_split(len(prompts)), config.batch_size, "pairs (one per --prompts review)")
    run.open({**settings, "beta": args.beta, "candidates": args.candidates, "labels": args.labels})
    pairs = run.learned_once("pairs.npz", lambda: pairs_of.preference_pairs(
        sft.build_model(), reward, prompts, args.new_tokens, candidates=args.candidates, seed=config.seed),
        pairs_of.save_pairs, pairs_of.load_pairs)
    train, validation = pairs_of.pair_datasets(pairs, config.batch_size, labels=args.labels, seed=config.seed)
    result = run.fit(lambda: dpo_trainer(sft.build_model(), args.beta), train, validation, **dpo_objective())
    held_out = result.model.evaluate(validation, verbose=0, return_dict=True)
    policy = result.model.get_layer("gpt")
    settings = {"beta": args.beta, "candidates": args.candidates, "labels": args.labels,
                "pairs": len(pairs["margin"]), "epochs": config.epochs, "learning_rate": config.learning_rate}
    export = stages.policy_export(policy, tokenizer, sft, {"method": "DPO", "settings": settings}, reward, DPO_TASK)
    return run.finish(
        dataclasses.replace(result, model=policy), "dpo", export, stages.POLICY_CARD,
        metrics_update={"validation": held_out},
        report=lambda metrics: write_dpo_report(run.directory, metrics, pairs, args.beta, held_out),
        summary=lambda metrics: (f"DPO, beta {args.beta}: {len(pairs['margin']):,} pairs; on the held-out tenth, the "
                                 f"policy prefers the chosen more than the SFT model does in "
                                 f"{held_out['preference_accuracy']:.1%} | {MEASURE}"),
    )


def ppo(args):
    from keras_apps.evaluate.preference import write_ppo_report
    from keras_apps.preference.ppo import check_settings, fit_ppo

    sft, tokenizer, reward, config, run, prompts, settings = stages.tuning_start(args, PPO_TASK, PPO_RECIPE)
    check_settings(run.strategy, args.rollouts, config.batch_size)
    kl = {name: getattr(args, name) for name in ("kl_target", "kl_coefficient", "kl_horizon")}
    run.open({**settings, "rollouts": args.rollouts, "ppo_epochs": args.ppo_epochs, **kl})
    result = fit_ppo(run, sft, reward, prompts, rollouts=args.rollouts, ppo_epochs=args.ppo_epochs,
                     new_tokens=args.new_tokens, **kl)
    history = run.directory.read_history()
    last = {key: value for key, value in history[-1].items() if not key.startswith("val_")}  # none, empty
    settings = {**kl, "iterations": config.epochs, "rollouts": args.rollouts, "learning_rate": config.learning_rate}
    policy = result.model.policy
    export = stages.policy_export(policy, tokenizer, sft, {"method": "PPO", "settings": settings}, reward, PPO_TASK)
    return run.finish(
        dataclasses.replace(result, model=policy), "ppo", export, stages.POLICY_CARD,
        metrics_update={"last_iteration": last},
        report=lambda metrics: write_ppo_report(run.directory, metrics, history, args.kl_target),
        summary=lambda metrics: (f"PPO towards KL {args.kl_target}: its last rollouts scored {last['score']:+.3f} at "
                                 f"KL {last['kl']:.2f} from the SFT model | {MEASURE}"),
    )


def evaluate(args):
    from keras_apps.data import imdb
    from keras_apps.evaluate.preference import write_evaluation
    from keras_apps.preference import evaluation
    from keras_apps.training.run_directory import RunDirectory

    sft, reference, tokenizer, reward, (judge_version, judge), policies = stages.evaluation_start(args)
    reviews = imdb.load(args.data_dir).take("test", args.prompts, "--prompts").texts
    prompts = evaluation.review_prompts(tokenizer, reviews, seed=args.seed)
    directory = RunDirectory.create(f"{TASK}-evaluate", args.run_dir).path
    points, examples = evaluation.frontier(reference, reward, judge, tokenizer, prompts, new_tokens=args.new_tokens,
                                           best_of_counts=args.best_of, policies=policies, seed=args.seed)
    write_evaluation(directory, points, examples, prompts=len(prompts), new_tokens=args.new_tokens,
                     sft=sft, judge=judge_version, reward=reward.export)
    return 0


def _pipeline_arguments(parser):
    cli.add_data_arguments(parser)
    parser.add_argument("--exports", type=cli.path, default="saved_models", help="where the stages' exports go; one "
                        "already there is reused (default: saved_models)")
    parser.add_argument("--judge-export", type=cli.path, help="an IMDB classifier export, not nb-bow's, that judges "
                        "the policies (default: <exports>/imdb-transformer, trained if missing)")
    parser.add_argument("--run-dir", type=cli.path, default=PIPELINE_RUN_DIR, help="where each stage's run folder "
                        f"goes; the same command again resumes an interrupted stage (default: {PIPELINE_RUN_DIR})")


def _sft_arguments(parser):
    cli.add_data_arguments(parser)
    parser.add_argument("--max-steps", type=cli.positive_int, default=SFT_STEPS,
                        help=f"training steps of 32 windows of 128 tokens (default: {SFT_STEPS})")
    parser.add_argument("--eval-interval", type=cli.positive_int, default=SFT_EVAL_INTERVAL,
                        help=f"steps between validations, a divisor of --max-steps (default: {SFT_EVAL_INTERVAL})")
    parser.add_argument("--sample-tokens", type=cli.non_negative_int, default=500,
                        help="tokens per sample in the run's samples.md (default: 500)")
    parser.add_argument("--seed", type=cli.seed, default=0, help="random seed (default: 0)")
    cli.add_run_dir_argument(parser, "gpt")
    cli.add_export_argument(parser, SFT_EXPORT_DIR, loading=False)


def _reward_arguments(parser):
    parser.add_argument("--sft-export", type=cli.path, default=SFT_EXPORT_DIR,
                        help=f"the SFT model whose blocks the reward model starts from (default: {SFT_EXPORT_DIR})")
    cli.add_data_arguments(parser)
    parser.add_argument("--train-examples", type=cli.positive_int, metavar="N",
                        help="use N training reviews (default: all 25,000, a tenth of them for validation)")
    parser.add_argument("--test-reviews", type=cli.positive_int, default=TEST_REVIEWS, metavar="N",
                        help=f"test reviews scored, among which test pairs are drawn (default: {TEST_REVIEWS:,})")
    cli.add_training_arguments(parser, stages.REWARD_TASK, REWARD_RECIPE)
    cli.add_export_argument(parser, REWARD_EXPORT_DIR, loading=False)


def _stage_arguments(parser):
    parser.add_argument("--sft-export", type=cli.path, default=SFT_EXPORT_DIR,
                        help=f"the reference model (default: {SFT_EXPORT_DIR})")
    parser.add_argument("--reward-export", type=cli.path, default=REWARD_EXPORT_DIR, help="the reward model, or an "
                        "IMDB classifier export whose log-odds of a positive review is the reward (default: "
                        f"{REWARD_EXPORT_DIR})")
    cli.add_data_arguments(parser)
    parser.add_argument("--new-tokens", type=cli.positive_int, default=NEW_TOKENS,
                        help=f"subwords each continuation adds (default: {NEW_TOKENS})")


def _dpo_arguments(parser):
    _stage_arguments(parser)
    parser.add_argument("--beta", type=cli.positive_float, default=0.1,
                        help="DPO's beta: how strongly the policy is held to the SFT model (default: 0.1)")
    parser.add_argument("--prompts", type=cli.positive_int, default=DPO_PROMPTS,
                        help=f"training reviews whose openings make a pair each (default: {DPO_PROMPTS:,})")
    parser.add_argument("--candidates", type=cli.count_up_to(stages.MOST_CANDIDATES, least=2), metavar="N",
                        default=CANDIDATES,
                        help=f"responses to each opening, the best and worst of them a pair (default: {CANDIDATES})")
    parser.add_argument("--labels", choices=stages.DPO_LABELS, default="hard",
                        help="hard: the chosen always preferred (the DPO paper); reward: as likely as the reward "
                        "says, σ(r_chosen − r_rejected) (default: hard)")
    cli.add_training_arguments(parser, DPO_TASK, DPO_RECIPE)
    cli.add_export_argument(parser, DPO_EXPORT_DIR, loading=False)


def _ppo_arguments(parser):
    _stage_arguments(parser)
    parser.add_argument("--prompts", type=cli.positive_int, default=PPO_PROMPTS,
                        help=f"training reviews whose openings the rollouts draw from (default: {PPO_PROMPTS:,})")
    parser.add_argument("--rollouts", type=cli.positive_int, default=ROLLOUTS,
                        help=f"responses sampled each iteration (an epoch) (default: {ROLLOUTS})")
    parser.add_argument("--ppo-epochs", type=cli.positive_int, default=PPO_EPOCHS,
                        help=f"passes over each iteration's rollouts (default: {PPO_EPOCHS})")
    parser.add_argument("--kl-target", type=cli.positive_float, default=KL_TARGET,
                        help=f"the KL to the SFT model (nats a response) β_KL is steered to (default: {KL_TARGET})")
    parser.add_argument("--kl-coefficient", type=cli.positive_float, default=KL_COEFFICIENT,
                        help=f"β_KL, the KL penalty's coefficient, at the start (default: {KL_COEFFICIENT})")
    parser.add_argument("--kl-horizon", type=cli.positive_int, default=KL_HORIZON, help="rollouts over which β_KL "
                        f"may change by a factor e^±0.2 (Ziegler et al.'s horizon) (default: {KL_HORIZON:,})")
    cli.add_training_arguments(parser, PPO_TASK, PPO_RECIPE)
    cli.add_export_argument(parser, PPO_EXPORT_DIR, loading=False)


def _evaluate_arguments(parser):
    _stage_arguments(parser)
    parser.add_argument("--judge-export", type=cli.path, default="saved_models/imdb",
                        help="an IMDB sentiment classifier export that no stage trained against (default: "
                        "saved_models/imdb)")
    parser.add_argument("--prompts", type=cli.positive_int, default=EVALUATION_PROMPTS,
                        help=f"test reviews whose openings are the prompts (default: {EVALUATION_PROMPTS})")
    parser.add_argument("--best-of", type=cli.count_up_to(stages.MOST_BEST_OF), nargs="+", action=cli.GivenOnce,
                        default=list(BEST_OF), metavar="N",
                        help=f"best-of-N for these N (default: {' '.join(map(str, BEST_OF))})")
    parser.add_argument("--policy-export", type=cli.path, nargs="*", action=cli.GivenOnce, default=[], metavar="EXPORT",
                        help="tuned policies to measure beside the SFT model and best-of-N (default: none)")
    parser.add_argument("--seed", type=cli.seed, default=0, help="seed of the prompts and samples (default: 0)")
    parser.add_argument("--run-dir", type=cli.path,
                        help=f"where the report goes (default: runs/{TASK}-evaluate/<timestamp>)")


COMMANDS = {
    "pipeline": cli.Command(pipeline, _pipeline_arguments, "every stage in order, then the evaluation (default)",
                            "Run sft and reward, train IMDB's nb-bow classifier (the reward PPO and DPO tune "
                            "against) and Transformer (the judge), run ppo and dpo, each where its export is "
                            "missing, then evaluate both policies. Each stage is a command of its own."),
    "sft": cli.Command(sft, _sft_arguments, "the supervised model: a GPT of IMDB reviews",
                       "Train a GPT on IMDB's training and unlabeled reviews in subwords learned from them, score it "
                       "on their last tenth, and export it to serve `generate` (`python -m tasks.gpt` does the work)."),
    "reward": cli.Command(reward, _reward_arguments, "a reward model learned from the reviewers' ratings",
                          "Put a scalar head on the SFT model's blocks and train it with the Bradley-Terry loss on "
                          "pairs of differently rated training reviews; measure how often it agrees with the raters "
                          "on pairs of test reviews; export it with a `score` signature (texts in, rewards out)."),
    "dpo": cli.Command(dpo, _dpo_arguments, "DPO on pairs of the SFT model's samples, preferred by the reward",
                       "Pair the best and worst by the reward of --candidates continuations of training reviews' "
                       "openings by the SFT model; tune a copy of the SFT model on the pairs by DPO; export it."),
    "ppo": cli.Command(ppo, _ppo_arguments, "PPO against the reward, with a KL penalty to the SFT model",
                       "Tune a copy of the SFT model by PPO: each iteration (an --epochs) samples --rollouts responses "
                       "to training reviews' openings, rewards them by --reward-export less a KL penalty steered to "
                       "--kl-target, and takes --ppo-epochs passes of clipped updates; export it."),
    "evaluate": cli.Command(evaluate, _evaluate_arguments, "policies on held-out prompts: judge, reward, KL",
                            "Continue test reviews' openings by the SFT model, best-of-N of its samples and each "
                            "policy given; score them by the reward and a judge no stage trained against (an "
                            "IMDB classifier), beside their KL to the SFT model; write frontier.json and a report."),
}


def main(argv=None):
    return cli.main(TASK, "Preference tuning (RLHF) of a GPT that writes movie reviews.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
