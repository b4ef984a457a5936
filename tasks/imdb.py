"""Movie-review sentiment: train a text classifier on IMDB, evaluate it on the 25,000 test reviews, export it.

    python -m tasks.imdb                              # the default model (nb-bow), evaluated and exported
    python -m tasks.imdb --model transformer          # learns from an nb-bow teacher on the unlabeled reviews too
    python -m tasks.imdb --model bert                 # pre-train BERT on the reviews, then fine-tune it
    python -m tasks.imdb --model bert --pretrained-backbone runs/imdb/<run>/backbone --lora-rank 8
    python -m tasks.imdb evaluate                     # the latest export on the test set
    python -m tasks.imdb predict "A wonderful film." --file reviews.txt
    python -m tasks.imdb compress                     # LiteRT and Keras int8 variants, measured
    python -m tasks.imdb explain "A wonderful film."  # the review's words shaded by their attribution

Every export takes raw review text: the tokenizer or vectorizer runs inside the SavedModel. How each recipe
came to be, with its measured figures, is in bench/NOTES.md.
"""

import dataclasses
import functools
from pathlib import Path

from keras_apps import cli, files, settings
from keras_apps.data import imdb
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.recipes import Recipe
from keras_apps.text_classification.recipes import (
    BertSource, NGramSettings, Pretraining, TextClassifier, check_choices, pretrains_here, wordpiece_vocabulary_size,
)
from keras_apps.training.config import TrainingConfig

TASK = "imdb"
DEFAULT_EXPORT_DIR = "saved_models/imdb"
CLASS_NAMES = ["negative", "positive"]
MODEL_CARD = CardText(
    description="A movie-review sentiment classifier: raw English review text in, the probability that the "
    "review is positive and a 0/1 label out. Tokenization runs inside the SavedModel.",
    data="The Large Movie Review Dataset (Maas et al., 2011): 25,000 training reviews from IMDB (10 % held "
    "out for validation) and 25,000 test reviews of other movies, half positive (7-10 stars) and half "
    "negative (1-4 stars); neutral reviews are not in it.",
    intended_use="Teaching and demonstrating text classification; scoring the sentiment of English reviews "
    "of films or similar products, in aggregate.",
    limits="Two classes only: mixed or neutral text is forced into one. English only; sarcasm, negation over "
    "long spans and domains far from film reviews (tweets, medical or legal text) are read poorly. The "
    "reviews are IMDB users' of 2011 and earlier, with their biases; do not use it to judge people.",
)

RECIPES = {
    # Logistic regression on TF-IDF unigrams and bigrams: the textbook baseline.
    "bow": Recipe(TextClassifier("ngrams", dict(hidden_units=0), ngrams=NGramSettings(200_000, "tf-idf")),
                  TrainingConfig(epochs=5, batch_size=128, learning_rate=1e-3, weight_decay=0.05)),
    # The same network on n-gram presence weighted by naive-Bayes log-count ratios (NBSVM with a logistic
    # loss): the most accurate model here for its time.
    "nb-bow": Recipe(TextClassifier("ngrams", dict(hidden_units=0), ngrams=NGramSettings(200_000, "naive-bayes")),
                     TrainingConfig(epochs=8, batch_size=128, learning_rate=1e-3, weight_decay=0.05)),
    # Every token's states pooled (mean and max), dropout 0.5, the review's head (a quarter) and tail: a long
    # review's verdict is often in its last lines. 512 tokens keep 87 % of the training reviews whole.
    "lstm": Recipe(TextClassifier("lstm", dict(embedding_dim=64, units=64, dropout=0.5, pooling="mean-max")),
                   TrainingConfig(epochs=4, batch_size=64, learning_rate=2e-3, weight_decay=0.01)),
    # The same pooling and reading, keras.io's small width and weight decay 0.1 against the embeddings of rare
    # words, and the nb-bow teacher's verdicts on the 50,000 unlabeled reviews as soft targets.
    "transformer": Recipe(
        TextClassifier("transformer", dict(embedding_dim=32, num_heads=2, intermediate_dim=32, num_layers=1,
                                           dropout=0.3, pooling="mean-max"), teacher="nb-bow"),
        TrainingConfig(epochs=3, batch_size=64, learning_rate=1e-3, weight_decay=0.1),
    ),
    # BERT-Tiny's shape (2 layers, width 128): the size whose pre-training fits a CPU; 256 tokens, as every
    # token read costs time on a CPU. It reads and learns as the Transformer does; lr 1e-3, because
    # pre-trained weights are 5x the scale of a new network's.
    "bert": Recipe(
        TextClassifier("bert", dict(num_layers=2, num_heads=2, hidden_dim=128, intermediate_dim=512, dropout=0.1),
                       sequence_length=256, teacher="nb-bow"),
        TrainingConfig(epochs=3, batch_size=32, learning_rate=1e-3, weight_decay=0.01),
    ),
}
# Masked-LM pre-training the cheap way "cramming" found (Geiping & Goldstein 2022): no dropout, a high learning
# rate, 128-token windows (fine-tuning learns the positions beyond), compiled with XLA.
PRETRAINING = Pretraining(epochs=8, batch_size=64, learning_rate=2e-3, weight_decay=0.01, sequence_length=128,
                          jit_compile=True)
DEFAULT_MODEL = "nb-bow"
VOCABULARY_SIZE = 16_000


def train(args):
    from keras_apps.evaluate.classification import evaluate_logits
    from keras_apps.evaluate.run_report import text_explanations, text_mistakes, write_classifier_report
    from keras_apps.inference.serving import RAW_TEXTS, text_classifier_endpoints
    from keras_apps.lifecycle import Export, require_data, start_run
    from keras_apps.recipes import overlaid
    from keras_apps.text_classification import bert_start, classifier as classifiers
    from keras_apps.text_classification.soft_targets import with_soft_targets
    from keras_apps.text_classification.teacher import learned_verdicts

    recipe, source = overlaid(RECIPES[args.model], args), settings.overlay(BertSource(), args)
    model, config = recipe.model, recipe.training
    check_choices(args.model, model, source, args.unlabeled_examples, settings.given_flags(Pretraining, args))
    vocabulary_size = wordpiece_vocabulary_size(model, source, args.vocabulary_size, VOCABULARY_SIZE)
    pretrains = pretrains_here(model, source)
    unlabeled = pretrains or model.learns_from_a_teacher
    pretraining = settings.overlay(PRETRAINING, args)  # --jit-compile and --no-jit-compile reach it too
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)
    splits = imdb.run_splits(args.data_dir, validation_fraction=args.validation_fraction, seed=config.seed,
                             train_examples=args.train_examples, test_examples=args.test_examples,
                             unlabeled=unlabeled, unlabeled_examples=args.unlabeled_examples)
    require_data(len(splits.train), len(splits.validation), config.batch_size, "reviews")
    settings.count_within("--explain-examples", args.explain_examples, len(splits.test), "test reviews in this run")
    print(f"IMDB: {len(splits.train):,} train, {len(splits.validation):,} validation, {len(splits.test):,} test "
          f"reviews" + (f", {len(splits.unlabeled):,} unlabeled" if unlabeled else ""))
    run.open({
        "model": args.model, "classifier": dataclasses.asdict(model),
        **splits.sizes(),
        "vocabulary_size": vocabulary_size, **bert_start.recorded(source),
        "pretraining": dataclasses.asdict(pretraining) if pretrains else None,
        "data": splits.fingerprint(),
    })
    classifier = classifiers.classifier_for(  # before the teacher: a backbone that cannot serve stops the run first
        model, run, splits.train, vocabulary_size=vocabulary_size,
        bert_start=lambda vocabulary: bert_start.start(source, model, pretraining, run=run, vocabulary=vocabulary,
                                                       corpus=splits.unlabeled + splits.train.texts,
                                                       validation_texts=splits.validation.texts))
    training_split, extra = splits.train, {}
    if model.learns_from_a_teacher:
        verdicts = learned_verdicts(run, RECIPES[model.teacher], model.teacher, splits)
        training_split = imdb.LabeledTexts(*with_soft_targets(splits.train.texts, splits.train.labels,
                                                              splits.unlabeled, verdicts.probabilities))
        extra["teacher"] = verdicts.record
    fit = functools.partial(run.fit, lora_rank=source.lora_rank, lora_train=bert_start.NEW_TO_FINE_TUNING)
    result = classifiers.fit_classifier(fit, classifier, training_split, splits.validation, config)
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    # One pass over the test set gives the figures and the evaluation beyond them.
    probabilities, evaluation, test_metrics = evaluate_logits(
        splits.test.labels, classifiers.logits(result.model, splits.test, classifier.encoder, config.batch_size),
        CLASS_NAMES)

    export = Export(text_classifier_endpoints(result.model, classifier.encoder.encode),
                    track=classifier.encoder.track, files=classifier.encoder.files,
                    metadata={"inputs": RAW_TEXTS, "teacher": model.teacher,
                              "outputs": "probability: float32 [batch] (of a positive review); label: int32 "
                                         "[batch] (1 positive, 0 negative)"})
    return run.finish(
        result, args.model, export, MODEL_CARD,
        report=lambda metrics: write_classifier_report(
            run.directory, title=f"IMDB, {args.model}", metrics=metrics, evaluation=evaluation,
            mistakes=text_mistakes(splits.test.texts, splits.test.labels, probabilities, CLASS_NAMES),
            explanations=text_explanations(metrics["export"], TASK, splits.test.texts, args.explain_examples)),
        summary=lambda metrics: (
            f"{args.model}: test accuracy {test_metrics['accuracy']:.4f} on {len(splits.test):,} reviews, "
            f"loss {test_metrics['loss']:.4f} | {metrics['params']:,} parameters, "
            f"{metrics['trained_for']} ({metrics['train_examples_per_second']:.0f} reviews/s)"),
        test_metrics=test_metrics, evaluation=evaluation, extra={**extra, **classifier.figures},
    )


def evaluate(args):
    from keras_apps.evaluate.classification import accuracy_and_log_loss
    from keras_apps.export.saved_model import load_serving
    from keras_apps.text_classification.exports import scores

    version_path, serve = load_serving(args.export_dir, task=TASK)
    test = imdb.load(args.data_dir).take("test", args.test_examples, "--test-examples")
    accuracy, loss = accuracy_and_log_loss(test.labels, scores(serve, test.texts, unit="review"), floor=1e-7)
    print(f"{version_path}: test accuracy {accuracy:.4f}, loss {loss:.4f} on {len(test):,} reviews")
    return 0


def predict(args):
    from keras_apps.export.saved_model import load_serving
    from keras_apps.text_classification.exports import read_words, scored_batches

    reviews = cli.given_texts(args.reviews, args.file, "reviews to classify", readable=read_words)
    _, serve = load_serving(args.export_dir, task=TASK)
    for review, probability in zip(reviews, (each for batch in scored_batches(serve, reviews) for each in batch)):
        preview = " ".join(review.split())
        preview = preview if len(preview) <= 60 else preview[:57] + "..."
        print(f"{'positive' if probability >= 0.5 else 'negative'} {probability:.3f}  {preview}")
    return 0


def compress(args):
    from keras_apps.compress import suite
    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.text_classification.exports import network_subject

    export_path = resolve_task_export(args.export_dir, TASK)  # before the data: a wrong export fails at once
    data = imdb.load(args.data_dir)
    test = data.take("test", args.test_examples, "--test-examples")
    subject = network_subject(export_path, TASK, test, data.train.texts, data.test.texts[:64],
                              representative_examples=args.representative_examples, seed=args.seed)
    report = suite.Report.create(TASK, args.run_dir, f"IMDB, {len(test):,} test reviews (the network, after text "
                                 f"encoding, which stays in TensorFlow)", subject.export_path)
    print(f"Compressing the network of {subject.export_path} into {report.directory}")
    suite.quantize(subject, report.directory, report, network_only=True)
    report.finish()
    return 0


def explain(args):
    from keras_apps.explain.text import write_shaded_html
    from keras_apps.text_classification.exports import ReviewExplainer

    if args.review and args.file:
        raise UserError("give a review or --file, not both")
    review = args.review if args.file is None else "\n".join(files.read_lines(args.file))
    if not review.strip():
        raise UserError(f"{args.file or 'the review'} is empty: give a review to explain as an argument or with --file")
    cli.check_output(args.output, ".html", reading=[args.file] if args.file else [])  # before the explanation
    explainer = ReviewExplainer(args.export_dir, TASK)
    explained = explainer.explain(review, args.method, steps=args.steps, samples=args.samples, seed=args.seed)
    summary = f"{explained.summary} Model: {explainer.export_path}."
    write_shaded_html(Path(args.output), "Why the model read this review as it did", summary, explained.words,
                      explained.explanation.values)
    print(f"{summary}\npage: {args.output}")
    return 0


def _add_test_examples(parser):
    parser.add_argument("--test-examples", type=cli.positive_int,
                        help="evaluate on N test reviews drawn at random, for a quick try (default: all 25,000)")


def _train_arguments(parser):
    parser.add_argument("--model", choices=sorted(RECIPES), default=DEFAULT_MODEL,
                        help=f"bow: TF-IDF bigrams; nb-bow: naive-Bayes-weighted bigrams; lstm; transformer; bert: "
                        f"pre-trained here, then fine-tuned (default: {DEFAULT_MODEL}, the most accurate for its time)")
    cli.add_data_arguments(parser)
    parser.add_argument("--validation-fraction", type=cli.fraction, default=0.1,
                        help="share of the training reviews held out for validation (default: 0.1)")
    parser.add_argument("--train-examples", type=cli.positive_int,
                        help="use N training reviews drawn at random, for a quick try (default: all 25,000)")
    _add_test_examples(parser)
    parser.add_argument("--vocabulary-size", type=cli.positive_int,
                        help=f"WordPiece vocabulary size for lstm, transformer and bert (default: {VOCABULARY_SIZE:,})")
    parser.add_argument("--unlabeled-examples", type=cli.non_negative_int, help="use only the first N of the "
                        "50,000 unlabeled reviews, for pre-training or a teacher (default: all)")
    bert = parser.add_argument_group("bert")
    settings.add_flags(bert, BertSource, default=None)
    settings.add_flags(bert, Pretraining, default=None, exclude=("jit_compile",))  # the training's flag
    cli.add_training_arguments(parser, TASK, RECIPES)
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)
    cli.add_explain_examples_argument(parser)


def _loading_arguments(parser, *, data=False):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    if data:
        cli.add_data_arguments(parser)
        _add_test_examples(parser)


def _predict_arguments(parser):
    parser.add_argument("reviews", nargs="*", type=cli.text_or_file, help="review texts (quote each one)")
    parser.add_argument("--file", type=cli.path, action="append", default=[], metavar="PATH",
                        help="a UTF-8 text file, one review per line")
    _loading_arguments(parser)


def _compress_arguments(parser):
    _loading_arguments(parser, data=True)
    cli.add_compression_arguments(parser, TASK, ("quantize",))


def _explain_arguments(parser):
    parser.add_argument("review", nargs="?", default="", type=cli.text_or_file, help="the review text (quote it)")
    parser.add_argument("--file", type=cli.path, metavar="PATH", help="read the review from a UTF-8 text file instead")
    _loading_arguments(parser)
    parser.add_argument("--output", type=cli.path, default="explanation.html", help="the HTML page to write (default: "
                        "explanation.html)")
    cli.add_explanation_arguments(parser)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "train, evaluate on the test set, export (default)",
                         "Train a sentiment classifier on the IMDB reviews, evaluate it once on the 25,000 test "
                         "reviews, and export a SavedModel that takes raw text."),
    "evaluate": cli.Command(evaluate, lambda parser: _loading_arguments(parser, data=True),
                            "evaluate an export on the test set",
                            "Evaluate an exported model on the 25,000 IMDB test reviews, from their raw text."),
    "predict": cli.Command(predict, _predict_arguments, "classify reviews with an export",
                           "Print each review's sentiment and P(positive)."),
    "compress": cli.Command(compress, _compress_arguments, "quantize an export and measure every variant",
                            "Post-training quantization of an export's network to LiteRT (float32, dynamic-range, "
                            "float16, int8; not an LSTM's, which LiteRT cannot run) and Keras int8, each measured "
                            "on the test set (size, gzip'd size, accuracy, batch-1 latency, batch-64 throughput) "
                            "into compression.json and compression.md. The text encoding (string ops LiteRT lacks) "
                            "stays in TensorFlow: the variants take the encoded reviews."),
    "explain": cli.Command(explain, _explain_arguments, "shade a review's words by what they did to the prediction",
                           "Explain an export's verdict on one review, word by word: integrated gradients of its "
                           "logit (on the embeddings of token models, on the n-gram features of bag-of-n-gram "
                           "models), or LIME or SHAP of its P(positive), dropping words. Written as an HTML page "
                           "with each word shaded green (toward positive) or red (toward negative)."),
}


def main(argv=None):
    return cli.main(TASK, "IMDB movie-review sentiment: train (the default command), evaluate, predict, compress or "
                    "explain.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
