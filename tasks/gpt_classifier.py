"""GPT-1's recipe (Radford et al. 2018): a GPT pre-trained on text, fine-tuned as a classifier by a linear head on
its last token's hidden state. Here the pre-trained GPT is the RLHF task's SFT model of IMDB reviews, fine-tuned as
IMDB's sentiment classifier, and set against the same network trained from scratch with the same recipe.

    python -m tasks.rlhf sft                              # the pre-trained GPT (once)
    python -m tasks.gpt_classifier                        # fine-tuned from saved_models/rlhf-sft
    python -m tasks.gpt_classifier --from-scratch         # the same network and recipe, its weights drawn afresh

Both read each review from its start, a line break and its first 127 subwords, as the SFT model read reviews
(`keras_apps.preference.openings`), and are tested once on IMDB's 25,000 test reviews. The export serves raw
texts, as every IMDB classifier's does: P(positive) and a label.
"""

from keras_apps import cli
from keras_apps.export.model_card import CardText
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK = "gpt_classifier"
SFT_EXPORT_DIR, DEFAULT_EXPORT_DIR = "saved_models/rlhf-sft", "saved_models/gpt_classifier"
# Two passes from the SFT model's weights, in its precision (the reward model's recipe, one pass longer).
RECIPE = Recipe(None, TrainingConfig(epochs=2, batch_size=32, learning_rate=1e-4, weight_decay=0.01,
                                     precision="mixed_bfloat16"))
CLASS_NAMES = ["negative", "positive"]
MODEL_CARD = CardText(
    description="A movie-review sentiment classifier: raw English review text in, the probability that the review "
    "is positive and a 0/1 label out. A GPT's blocks with a linear head on the last token; it reads a review's "
    "first 127 subwords.",
    data="The Large Movie Review Dataset (Maas et al., 2011): 25,000 training reviews (a tenth held out for "
    "validation) and 25,000 test reviews; pre-trained (unless from scratch) on the training and unlabeled reviews "
    "as the RLHF task's SFT model.",
    intended_use="Teaching GPT-1's pre-train then fine-tune recipe, against the same network from scratch.",
    limits="It sees the opening of a review only: a verdict given at the end is missed. Two classes, English "
    "film reviews of 2011 and earlier; do not use it to judge people.",
)


def train(args):
    import keras

    from keras_apps.data import imdb
    from keras_apps.evaluate.classification import evaluate_logits
    from keras_apps.evaluate.run_report import text_mistakes, write_classifier_report
    from keras_apps.inference.serving import RAW_TEXTS, text_classifier_endpoints
    from keras_apps.lifecycle import Export, require_data, start_run
    from keras_apps.preference import stages
    from keras_apps.preference.models import build_classifier
    from keras_apps.preference.openings import opening_splits, review_openings
    from keras_apps.recipes import overlaid

    sft, tokenizer = stages.sft_stage(args.sft_export, args.run_dir)
    config = overlaid(RECIPE, args).training
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)
    splits = imdb.run_splits(args.data_dir, validation_fraction=0.1, seed=config.seed,
                             train_examples=args.train_examples, test_examples=args.test_examples)
    require_data(len(splits.train), len(splits.validation), config.batch_size, "reviews")
    length = sft.metadata["model"]["context_length"]
    run.open({**sft.record(), "from_scratch": args.from_scratch, "length": length, **splits.sizes(),
              "data": splits.fingerprint()})

    train_data, validation_data = opening_splits(tokenizer, splits, "labels", length, config.batch_size,
                                                 seed=config.seed)
    result = run.fit(lambda: build_classifier(sft.build_model(), from_scratch=args.from_scratch), train_data,
                     validation_data,
                     loss=keras.losses.BinaryCrossentropy(from_logits=True),
                     metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)])
    if not result.is_chief:
        return 0
    print(f"Scoring {len(splits.test):,} test reviews", flush=True)
    logits = result.model.predict(review_openings(tokenizer, splits.test.texts, length), batch_size=64, verbose=0)
    probabilities, evaluation, test_metrics = evaluate_logits(splits.test.labels, logits[:, 0], CLASS_NAMES)

    def encode(texts):
        return review_openings(tokenizer, texts, length)

    export = Export(text_classifier_endpoints(result.model, encode), track=[tokenizer],
                    files=[sft.path / "tokenizer.json"],
                    metadata={"sft_export": str(sft.path), "from_scratch": args.from_scratch, "length": length,
                              "inputs": RAW_TEXTS,
                              "outputs": "probability: float32 [batch] (of a positive review); label: int32 [batch]"})
    name = "gpt-from-scratch" if args.from_scratch else "gpt-fine-tuned"
    return run.finish(
        result, name, export, MODEL_CARD, test_metrics=test_metrics, evaluation=evaluation,
        report=lambda metrics: write_classifier_report(
            run.directory, title=f"IMDB, {name}", metrics=metrics, evaluation=evaluation,
            mistakes=text_mistakes(splits.test.texts, splits.test.labels, probabilities, CLASS_NAMES)),
        summary=lambda metrics: (f"{name}: test accuracy {test_metrics['accuracy']:.4f} on {len(splits.test):,} "
                                 f"reviews, loss {test_metrics['loss']:.4f} | {metrics['trained_for']}"),
    )


def _train_arguments(parser):
    parser.add_argument("--sft-export", type=cli.path, default=SFT_EXPORT_DIR,
                        help=f"the pre-trained GPT (`python -m tasks.rlhf sft`); from scratch, its shape and "
                        f"tokenizer only (default: {SFT_EXPORT_DIR})")
    parser.add_argument("--from-scratch", action="store_true",
                        help="train the same network from freshly drawn weights instead of the SFT model's")
    cli.add_data_arguments(parser)
    parser.add_argument("--train-examples", type=cli.positive_int, metavar="N",
                        help="use N training reviews (default: all 25,000, a tenth of them for validation)")
    parser.add_argument("--test-examples", type=cli.positive_int, metavar="N",
                        help="test on N test reviews drawn at random (default: all 25,000)")
    cli.add_training_arguments(parser, TASK, RECIPE)
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "fine-tune (or train from scratch), test, export (default)",
                         "Put a linear head on the last token of the SFT model's GPT, fine-tune it as IMDB's "
                         "sentiment classifier (or the same network from scratch), test it on the test reviews, "
                         "and export it to serve raw texts."),
}


def main(argv=None):
    return cli.main(TASK, "GPT-1's recipe: a pre-trained GPT fine-tuned as a sentiment classifier.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
