"""Preference tuning (RLHF) of a GPT that writes movie reviews, after Ziegler et al. (2019) and the DPO paper's
controlled-sentiment experiment: a policy continues the opening words of a review, and is tuned to write
positively without drifting far from the model it started as. Each stage is a command; each hands the next
an export (`keras_apps.preference.stages`).

    python -m tasks.rlhf sft          # 1. the reference model: the GPT task on IMDB's training and unlabeled reviews
    python -m tasks.rlhf reward       # 2. a reward model from the reviewers' star ratings (Bradley-Terry)
    python -m tasks.rlhf dpo --beta 0.1   # 3. DPO on pairs of the SFT model's samples, preferred by the reward
    python -m tasks.rlhf evaluate --judge-export saved_models/imdb --policy-export saved_models/rlhf-dpo

`evaluate` measures the SFT model, best-of-N of its samples and tuned policies on the openings of test reviews,
by the reward model and by a judge no stage trained against, beside their KL to the SFT model
(`keras_apps.preference.evaluation`). Still to come (issue 29): PPO, whose objectives are in
`keras_apps.preference.objectives`.
"""

from pathlib import Path

from keras_apps import cli
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.preference import stages
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK = "rlhf"
SFT_EXPORT_DIR = "saved_models/rlhf-sft"
# The GPT task's default shape (4 blocks of width 256, context 128, bfloat16 computation) on the reviews.
SFT_STEPS, SFT_EVAL_INTERVAL = 1500, 250
REWARD_TASK = stages.REWARD_TASK
REWARD_EXPORT_DIR = "saved_models/rlhf-reward"
# One pass over the training reviews' openings, from the SFT model's weights, in its precision.
REWARD_RECIPE = Recipe(None, TrainingConfig(epochs=1, batch_size=32, learning_rate=1e-4, weight_decay=0.01,
                                            precision="mixed_bfloat16"))
TEST_REVIEWS, TEST_PAIRS, CLEAR_GAP = 5000, 20_000, 4
EVALUATION_PROMPTS, NEW_TOKENS, BEST_OF = 500, 48, (4, 16)
DPO_TASK, DPO_EXPORT_DIR, DPO_PROMPTS = "rlhf-dpo", "saved_models/rlhf-dpo", 2000
DPO_RECIPE = Recipe(None, TrainingConfig(epochs=2, batch_size=32, learning_rate=5e-5, weight_decay=0.0,
                                        precision="mixed_bfloat16"))
POLICY_CARD = CardText(
    description="A GPT of movie reviews tuned by preference (RLHF) to continue a review's opening positively: a "
    "prompt in, a continuation out.",
    data="Tuned from the SFT model of IMDB's training and unlabeled reviews, on pairs of its own continuations of "
    "training reviews' openings, preferred by a reward model learned from the reviewers' star ratings.",
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


def sft(args):
    from keras_apps.data import imdb
    from tasks import gpt

    corpus = imdb.review_corpus(args.data_dir)
    argv = ["train", "--text-file", str(corpus), "--tokenizer", "wordpiece", "--max-steps", str(args.max_steps),
            "--eval-interval", str(args.eval_interval), "--warmup-steps", str(min(100, args.max_steps // 10)),
            "--seed", str(args.seed), "--export-dir", args.export_dir]
    argv += ["--run-dir", args.run_dir] if args.run_dir else []
    print(f"SFT: the GPT task on {corpus.name} (IMDB's training and unlabeled reviews), in subwords", flush=True)
    return gpt.train(cli.parse_arguments(gpt.TASK, "", gpt.COMMANDS, argv))


def reward(args):
    import tensorflow as tf

    from keras_apps import progress
    from keras_apps.data import imdb
    from keras_apps.evaluate.preference import accuracy_by_gap, write_reward_report
    from keras_apps.inference.serving import reward_endpoint
    from keras_apps.lifecycle import Export, fingerprint, require_data, start_run
    from keras_apps.preference.models import build_reward_model, reward_objective
    from keras_apps.preference.openings import review_openings
    from keras_apps.preference.pairs import pairwise_accuracy, rating_pairs
    from keras_apps.recipes import overlaid

    sft, tokenizer = stages.sft_stage(args.sft_export)
    config = overlaid(REWARD_RECIPE, args).training
    run = start_run(REWARD_TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)
    splits = imdb.run_splits(args.data_dir, validation_fraction=0.1, seed=config.seed,
                             train_examples=args.train_examples, test_examples=args.test_reviews)
    require_data(len(splits.train), len(splits.validation), config.batch_size, "reviews")
    length = sft.metadata["model"]["context_length"]
    run.open({**sft.record(), "length": length, "train_examples": args.train_examples,
              "data": fingerprint(splits.train.texts, splits.train.ratings, splits.validation.texts)})

    def rated(split, training):
        ids = review_openings(tokenizer, split.texts, length)
        data = tf.data.Dataset.from_tensor_slices((ids, split.ratings.astype("float32")))
        data = data.shuffle(len(split), seed=config.seed) if training else data
        return data.batch(config.batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    result = run.fit(lambda: build_reward_model(sft.build_model()), rated(splits.train, True),
                     rated(splits.validation, False), **reward_objective())
    if not result.is_chief:
        return 0
    print(f"Scoring {len(splits.test):,} test reviews", flush=True)
    rewards = result.model.predict(review_openings(tokenizer, splits.test.texts, length), batch_size=64,
                                   verbose=progress.verbosity())
    pairs = rating_pairs(splits.test.ratings, TEST_PAIRS, seed=config.seed)
    test = {"pairwise_accuracy": pairwise_accuracy(rewards, pairs), "pairs": len(pairs),
            "pairwise_accuracy_clear": pairwise_accuracy(rewards, pairs.at_least(CLEAR_GAP)),
            "clear_pairs": len(pairs.at_least(CLEAR_GAP))}
    order = rewards.argsort()
    examples = [(float(rewards[index]), int(splits.test.ratings[index]), splits.test.texts[index][:300])
                for index in (*order[::-1][:3], *order[:3])]

    run.begin("export")
    score, signature = reward_endpoint(result.model, tokenizer, length)
    export = Export({"score": (tf.function(score, input_signature=signature), signature)}, track=[tokenizer],
                    files=[sft.path / "tokenizer.json"],
                    metadata={"sft_export": str(sft.path), "length": length, "inputs": "texts: string [batch]",
                              "outputs": "reward: float32 [batch] (higher: preferred)"})
    counts = {"train": len(splits.train), "validation": len(splits.validation), "test (scored)": len(splits.test)}
    return run.finish(
        result, "reward", export, REWARD_CARD, test_metrics=test,
        report=lambda metrics: write_reward_report(run.directory, metrics, by_gap=accuracy_by_gap(rewards, pairs),
                                                   examples=examples, counts=counts),
        summary=lambda metrics: (f"reward model: pairwise accuracy {test['pairwise_accuracy']:.4f} on "
                                 f"{len(pairs):,} pairs of test reviews, {test['pairwise_accuracy_clear']:.4f} on "
                                 f"those rated {CLEAR_GAP}+ points apart | {metrics['train_seconds']:.0f} s of "
                                 f"training"),
    )


def dpo(args):
    import dataclasses

    from keras_apps.data import imdb
    from keras_apps.evaluate.preference import write_dpo_report
    from keras_apps.lifecycle import start_run
    from keras_apps.preference import dpo as pairs_of
    from keras_apps.preference.evaluation import review_prompts
    from keras_apps.preference.models import dpo_objective, dpo_trainer
    from keras_apps.recipes import overlaid

    sft, tokenizer = stages.sft_stage(args.sft_export)
    reward_model = stages.reward_stage(args.reward_export)
    config = overlaid(DPO_RECIPE, args).training
    run = start_run(DPO_TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)
    prompts = review_prompts(tokenizer, imdb.load(args.data_dir).train.take(args.prompts).texts, seed=config.seed)
    run.open({**sft.record(), "reward_export": str(Path(args.reward_export).resolve()), "beta": args.beta,
              "prompts": args.prompts, "new_tokens": args.new_tokens})
    pairs = run.learned_once("pairs.npz", lambda: pairs_of.preference_pairs(
        sft.build_model(), reward_model, prompts, args.new_tokens, seed=config.seed), pairs_of.save_pairs,
        pairs_of.load_pairs)
    print(f"{len(pairs['margin']):,} pairs; the reward model prefers the chosen by {pairs['margin'].mean():.2f} on "
          f"average", flush=True)
    train, validation = pairs_of.pair_datasets(pairs, config.batch_size, seed=config.seed)
    result = run.fit(lambda: dpo_trainer(sft.build_model(), args.beta), train, validation, **dpo_objective())
    held_out = result.model.evaluate(validation, verbose=0, return_dict=True)
    policy = result.model.get_layer("gpt")
    settings = {"beta": args.beta, "pairs": len(pairs["margin"]), "epochs": config.epochs,
                "learning_rate": config.learning_rate}
    export = stages.policy_export(policy, tokenizer, sft, {"method": "DPO", "settings": settings})
    return run.finish(
        dataclasses.replace(result, model=policy), "dpo", export, POLICY_CARD, metrics_update={"validation": held_out},
        report=lambda metrics: write_dpo_report(run.directory, metrics, pairs, args.beta, held_out),
        summary=lambda metrics: (f"DPO, beta {args.beta}: {len(pairs['margin']):,} pairs; on the held-out tenth, the "
                                 f"policy prefers the chosen response more than the SFT model does in "
                                 f"{held_out['preference_accuracy']:.1%} | measure it with `python -m tasks.rlhf "
                                 f"evaluate --policy-export <export>`"),
    )


def evaluate(args):
    from keras_apps import files
    from keras_apps.data import imdb
    from keras_apps.evaluate.preference import write_frontier_report
    from keras_apps.export.saved_model import load_serving
    from keras_apps.preference import evaluation
    from keras_apps.training.run_directory import RunDirectory

    sft, tokenizer = stages.sft_stage(args.sft_export)
    reward_model = stages.reward_stage(args.reward_export)
    if not args.judge_export or not Path(args.judge_export).exists():
        raise UserError(f"no judge export at {args.judge_export}: train one with `python -m tasks.imdb --model "
                        f"transformer` (any IMDB classifier export judges), then name it with --judge-export")
    _, judge = load_serving(args.judge_export, task="imdb")
    texts = imdb.load(args.data_dir).test.take(args.prompts).texts
    prompts = evaluation.review_prompts(tokenizer, texts, seed=args.seed)
    policies = [(start.metadata["tuning"]["method"], start.metadata["tuning"]["settings"], start.build_model())
                for start in map(stages.policy_stage, args.policy_export)]
    directory = RunDirectory.create(f"{TASK}-evaluate", args.run_dir).path
    points, examples = evaluation.frontier(sft.build_model(), reward_model, judge, tokenizer, prompts,
                                           new_tokens=args.new_tokens, best_of_counts=args.best_of, policies=policies,
                                           seed=args.seed)
    files.write_json(directory / "frontier.json", {"points": points, "prompts": len(prompts),
                                                   "new_tokens": args.new_tokens, "judge": str(args.judge_export)})
    write_frontier_report(directory, "Preference tuning: policies on held-out prompts", points, examples,
                          prompts=len(prompts), new_tokens=args.new_tokens, judge=args.judge_export)
    for row in points:
        settings = ", ".join(f"{key} {value}" for key, value in row.items() if key not in evaluation.FIGURES)
        print(f"{settings}: judge {row['judge']:.4f}, reward {row['reward']:+.3f}, KL {row['kl']:.2f}")
    print(f"report: {directory / 'report.html'}")
    return 0


def _sft_arguments(parser):
    cli.add_data_arguments(parser)
    parser.add_argument("--max-steps", type=cli.positive_int, default=SFT_STEPS,
                        help=f"training steps of 32 windows of 128 tokens (default: {SFT_STEPS})")
    parser.add_argument("--eval-interval", type=cli.positive_int, default=SFT_EVAL_INTERVAL,
                        help=f"steps between validations, a divisor of --max-steps (default: {SFT_EVAL_INTERVAL})")
    parser.add_argument("--seed", type=cli.seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--run-dir", help="where the run writes its logs and metrics (default: runs/gpt/<timestamp>); "
                        "pointing it at an interrupted run resumes that run")
    cli.add_export_argument(parser, SFT_EXPORT_DIR, loading=False)


def _reward_arguments(parser):
    parser.add_argument("--sft-export", default=SFT_EXPORT_DIR,
                        help=f"the SFT model whose blocks the reward model starts from (default: {SFT_EXPORT_DIR})")
    cli.add_data_arguments(parser)
    parser.add_argument("--train-examples", type=cli.positive_int, metavar="N",
                        help="use N training reviews (default: all 25,000, a tenth of them for validation)")
    parser.add_argument("--test-reviews", type=cli.positive_int, default=TEST_REVIEWS, metavar="N",
                        help=f"test reviews scored, among which test pairs are drawn (default: {TEST_REVIEWS:,})")
    cli.add_training_arguments(parser, REWARD_TASK, REWARD_RECIPE)
    cli.add_export_argument(parser, REWARD_EXPORT_DIR, loading=False)


def _stage_arguments(parser):
    parser.add_argument("--sft-export", default=SFT_EXPORT_DIR, help=f"the reference model (default: {SFT_EXPORT_DIR})")
    parser.add_argument("--reward-export", default=REWARD_EXPORT_DIR,
                        help=f"the reward model (default: {REWARD_EXPORT_DIR})")
    cli.add_data_arguments(parser)
    parser.add_argument("--new-tokens", type=cli.positive_int, default=NEW_TOKENS,
                        help=f"subwords each continuation adds (default: {NEW_TOKENS})")


def _dpo_arguments(parser):
    _stage_arguments(parser)
    parser.add_argument("--beta", type=cli.positive_float, default=0.1,
                        help="DPO's beta: how strongly the policy is held to the SFT model (default: 0.1)")
    parser.add_argument("--prompts", type=cli.positive_int, default=DPO_PROMPTS,
                        help=f"training reviews whose openings are continued twice each (default: {DPO_PROMPTS:,})")
    cli.add_training_arguments(parser, DPO_TASK, DPO_RECIPE)
    cli.add_export_argument(parser, DPO_EXPORT_DIR, loading=False)


def _evaluate_arguments(parser):
    _stage_arguments(parser)
    parser.add_argument("--judge-export", default="saved_models/imdb",
                        help="an IMDB sentiment classifier export that no stage trained against (default: "
                        "saved_models/imdb)")
    parser.add_argument("--prompts", type=cli.positive_int, default=EVALUATION_PROMPTS,
                        help=f"test reviews whose openings are the prompts (default: {EVALUATION_PROMPTS})")
    parser.add_argument("--best-of", type=cli.positive_int, nargs="+", default=list(BEST_OF), metavar="N",
                        help=f"best-of-N for these N (default: {' '.join(map(str, BEST_OF))})")
    parser.add_argument("--policy-export", nargs="*", default=[], metavar="EXPORT",
                        help="tuned policies to measure beside the SFT model and best-of-N (default: none)")
    parser.add_argument("--seed", type=cli.seed, default=0, help="seed of the prompts and samples (default: 0)")
    parser.add_argument("--run-dir", help=f"where the report goes (default: runs/{TASK}-evaluate/<timestamp>)")


COMMANDS = {
    "sft": cli.Command(sft, _sft_arguments, "the supervised model: a GPT of IMDB reviews (default)",
                       "Train a GPT on IMDB's training and unlabeled reviews in a subword vocabulary learned from "
                       "them, score it on their last tenth, and export it with a `generate` signature. Other "
                       "settings: run `python -m tasks.gpt --text-file <the corpus> --tokenizer wordpiece` itself."),
    "reward": cli.Command(reward, _reward_arguments, "a reward model learned from the reviewers' ratings",
                          "Put a scalar head on the SFT model's blocks and train it with the Bradley-Terry loss on "
                          "pairs of differently rated training reviews; measure how often it agrees with the raters "
                          "on pairs of test reviews; export it with a `score` signature (texts in, rewards out)."),
    "dpo": cli.Command(dpo, _dpo_arguments, "DPO on pairs of the SFT model's samples, preferred by the reward",
                       "Sample two continuations of the openings of training reviews from the SFT model, prefer the "
                       "one the reward model scores higher, and tune a copy of the SFT model on these pairs by DPO; "
                       "export it as a GPT that serves `generate`."),
    "evaluate": cli.Command(evaluate, _evaluate_arguments, "policies on held-out prompts: judge, reward, KL",
                            "Continue the openings of test reviews by the SFT model, by best-of-N of its samples and "
                            "by each tuned policy given; score each by the reward model and by a judge no stage "
                            "trained against (an IMDB classifier export), with its KL to the SFT model; write "
                            "frontier.json and a report."),
}


def main(argv=None):
    return cli.main(TASK, "Preference tuning of a GPT that writes movie reviews (RLHF): the supervised model first.",
                    COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
