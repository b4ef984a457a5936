"""Preference tuning (RLHF) of a GPT that writes movie reviews, after Ziegler et al. (2019) and the DPO paper's
controlled-sentiment experiment: a policy continues the opening words of a review, and is tuned to write
positively without drifting far from the model it started as.

    python -m tasks.rlhf                       # the pipeline's stages built so far (today: sft)
    python -m tasks.rlhf sft                   # the supervised model: a GPT of IMDB reviews, in subwords

Stage 1, `sft`, is the GPT task (`python -m tasks.gpt`) trained on IMDB's 25,000 training and 50,000 unlabeled
reviews, one per line (`keras_apps.data.imdb.review_corpus`; never a test review), in a lowercase WordPiece
vocabulary learned from them, so that it writes words rather than letters. Its export serves `generate` as
every GPT export does, and is the reference model π_ref and the starting policy of the stages to come (the
reward model, PPO, DPO, best-of-N and their evaluation: issue 29), whose objectives and networks are in
`keras_apps.preference`.
"""

from keras_apps import cli

TASK = "rlhf"
SFT_EXPORT_DIR = "saved_models/rlhf-sft"
# The GPT task's default shape (4 blocks of width 256, context 128, bfloat16 computation) on the reviews.
SFT_STEPS, SFT_EVAL_INTERVAL = 1500, 250


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


COMMANDS = {
    "sft": cli.Command(sft, _sft_arguments, "the supervised model: a GPT of IMDB reviews (default)",
                       "Train a GPT on IMDB's training and unlabeled reviews in a subword vocabulary learned from "
                       "them, score it on their last tenth, and export it with a `generate` signature. Other "
                       "settings: run `python -m tasks.gpt --text-file <the corpus> --tokenizer wordpiece` itself."),
}


def main(argv=None):
    return cli.main(TASK, "Preference tuning of a GPT that writes movie reviews (RLHF): the supervised model first.",
                    COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
