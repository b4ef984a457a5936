"""Movie-review sentiment: train a text classifier on IMDB, evaluate it on the 25,000 test reviews, export it.

    python -m tasks.imdb                              # the default model (nb-bow), evaluated and exported
    python -m tasks.imdb --model transformer          # learns from an nb-bow teacher on the unlabeled reviews too
    python -m tasks.imdb --model bert                 # pre-train BERT on the reviews, then fine-tune it
    python -m tasks.imdb --model bert --pretrained-backbone runs/imdb/<run>/backbone
    python -m tasks.imdb evaluate                     # the latest export on the test set
    python -m tasks.imdb predict "A wonderful film." --file reviews.txt
    python -m tasks.imdb compress                     # LiteRT and Keras int8 variants, measured
    python -m tasks.imdb explain "A wonderful film."  # the review's words shaded by their attribution

Every export takes raw review text: the tokenizer or vectorizer runs inside the SavedModel. How each recipe
came to be, with its measured figures, is in bench/NOTES.md.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from keras_apps import cli, files
from keras_apps.data import imdb
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.text_classification.recipes import NGramSettings, Pretraining, Recipe

TASK = "imdb"
DEFAULT_EXPORT_DIR = "saved_models/imdb"
COMMANDS = ("train", "evaluate", "predict", "compress", "explain")

# WordPiece tokens per review: 512 keeps 87 % of the training reviews whole. A longer review keeps its first
# quarter and its last three quarters (`keras_apps.text.truncation`): the verdict is often in its last lines.
SEQUENCE_LENGTH = 512
# BERT reads 256: its pre-training passes over 72,500 reviews, and on a CPU every token read costs time.
BERT_SEQUENCE_LENGTH = 256
# How the BERT classifier reads a review from its tokens' output vectors (`build_bert_classifier`).
BERT_POOLING = "mean-max"


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
    "bow": Recipe(
        "ngrams", architecture=dict(hidden_units=0),
        training=dict(epochs=5, batch_size=128, learning_rate=1e-3, weight_decay=0.05),
        ngrams=NGramSettings(max_tokens=200_000, weighting="tf-idf"),
    ),
    # The same network on n-gram presence weighted by naive-Bayes log-count ratios (NBSVM with a logistic
    # loss): the most accurate model here for its time.
    "nb-bow": Recipe(
        "ngrams", architecture=dict(hidden_units=0),
        training=dict(epochs=8, batch_size=128, learning_rate=1e-3, weight_decay=0.05),
        ngrams=NGramSettings(max_tokens=200_000, weighting="naive-bayes"),
    ),
    # Every token's states pooled (mean and max), dropout 0.5, the review's head and tail.
    "lstm": Recipe(
        "lstm", architecture=dict(embedding_dim=64, units=64, dropout=0.5, pooling="mean-max"),
        training=dict(epochs=4, batch_size=64, learning_rate=2e-3, weight_decay=0.01),
    ),
    # The same pooling and reading, keras.io's small width and weight decay 0.1 against the embeddings of rare
    # words, and the nb-bow teacher's verdicts on the 50,000 unlabeled reviews as soft targets.
    "transformer": Recipe(
        "transformer",
        architecture=dict(embedding_dim=32, num_heads=2, intermediate_dim=32, num_layers=1, dropout=0.3,
                          pooling="mean-max"),
        training=dict(epochs=3, batch_size=64, learning_rate=1e-3, weight_decay=0.1), teacher="nb-bow",
    ),
    # BERT-Tiny's shape (2 layers, width 128): the size whose pre-training fits a CPU. It reads and learns as
    # the Transformer does; lr 1e-3, because pre-trained weights are 5x the scale of a new network's.
    "bert": Recipe(
        "bert", architecture=dict(num_layers=2, num_heads=2, hidden_dim=128, intermediate_dim=512, dropout=0.1),
        training=dict(epochs=3, batch_size=32, learning_rate=1e-3, weight_decay=0.01),
        sequence_length=BERT_SEQUENCE_LENGTH, teacher="nb-bow",
    ),
}
# Masked-LM pre-training the cheap way "cramming" found (Geiping & Goldstein 2022): no dropout, a high learning
# rate, 128-token windows (fine-tuning learns the positions beyond), compiled with XLA.
PRETRAINING = Pretraining(
    training=dict(epochs=8, batch_size=64, learning_rate=2e-3, weight_decay=0.01, jit_compile=True),
    sequence_length=128,
)
DEFAULT_MODEL = "nb-bow"
VOCABULARY_SIZE = 16_000


@dataclass
class Splits:
    """The labeled reviews as the run uses them, and the unlabeled ones for pre-training or a teacher."""

    train: imdb.LabeledTexts
    validation: imdb.LabeledTexts
    test: imdb.LabeledTexts
    unlabeled: list


def _splits(args, needs_unlabeled):
    data = imdb.load(args.data_dir, unlabeled=needs_unlabeled)
    train, validation = data.train.take(args.train_examples).split(args.validation_fraction, seed=args.seed)
    return Splits(train, validation, data.test.take(args.test_examples), data.unlabeled[: args.unlabeled_examples])


def _checked_choices(args, recipe):
    """The teacher the run learns from (or None), after refusing flags that do not go together."""
    if (args.preset or args.pretrained_backbone or args.from_scratch) and args.model != "bert":
        raise UserError("--preset, --pretrained-backbone and --from-scratch apply to --model bert only")
    if args.preset and args.pretrained_backbone:
        raise UserError("give --preset or --pretrained-backbone, not both")
    teacher = recipe.teacher if args.teacher is None else args.teacher
    teacher = None if teacher == "none" else teacher
    if teacher is not None and recipe.ngrams:
        raise UserError("--teacher applies to --model lstm, transformer and bert only")
    if teacher is not None and args.unlabeled_examples == 0:
        raise UserError("--unlabeled-examples 0 leaves the teacher nothing to label; add --teacher none")
    return teacher


def _classifier(args, recipe, run, splits, pretrains):
    """The model and encoder of `args.model`, its vocabulary or backbone learned once in the run."""
    from keras_apps.text.vocabulary import learn_vocabulary, load_vocabulary, save_vocabulary
    from keras_apps.text_classification import bert_start, classifier
    from keras_apps.text_classification.backbones import save_backbone
    from keras_apps.training.run_directory import RunDirectory

    if recipe.family == "ngrams":
        return classifier.ngram_classifier(recipe, splits.train, run.directory.path)
    sequence_length = args.sequence_length or recipe.sequence_length
    dropout = recipe.architecture.get("dropout", 0.0)
    handle = args.preset or args.pretrained_backbone
    if handle is not None:
        return classifier.bert_classifier(bert_start.from_backbone(handle, sequence_length, dropout),
                                          BERT_POOLING, dropout)

    def learn():
        texts = splits.train.texts
        print(f"Learning a WordPiece vocabulary of {args.vocabulary_size:,} tokens from {len(texts):,} reviews...")
        return learn_vocabulary(texts, args.vocabulary_size)

    vocabulary = run.learned_once("vocabulary.txt", learn, save_vocabulary, load_vocabulary)
    if recipe.family != "bert":
        return classifier.wordpiece_classifier(recipe, vocabulary, run.directory.path / "vocabulary.txt",
                                               sequence_length)
    start = bert_start.from_scratch(vocabulary, sequence_length, recipe.architecture)
    if pretrains:
        pretraining = Pretraining({**PRETRAINING.training, "epochs": args.pretrain_epochs,
                                   "batch_size": args.pretrain_batch_size,
                                   **({} if args.jit_compile is None else {"jit_compile": args.jit_compile})},
                                  PRETRAINING.sequence_length)
        saved = run.learned_once(
            "backbone",
            lambda: bert_start.pretrain(start, pretraining, splits.unlabeled + splits.train.texts,
                                        splits.validation.texts, config=run.config, strategy=run.strategy,
                                        run_directory=RunDirectory.create(TASK, run.directory.path / "pretraining")),
            lambda trained, path: save_backbone(*trained, path), Path)
        start = bert_start.from_backbone(saved, sequence_length, dropout)
    return classifier.bert_classifier(start, BERT_POOLING, dropout)


def train(args):
    from keras_apps.evaluate.classification import evaluate_classifier
    from keras_apps.inference.serving import (
        binary_classifier_endpoint, binary_text_classifier_endpoint, text_encoding_endpoint,
    )
    from keras_apps.lifecycle import Export, fingerprint, start_run
    from keras_apps.text_classification.classifier import fit_classifier, logits
    from keras_apps.text_classification.soft_targets import with_soft_targets
    from keras_apps.text_classification.teacher import load_verdicts, save_verdicts, teach
    from keras_apps.training.run_directory import RunDirectory

    import keras

    recipe = RECIPES[args.model]
    teacher = _checked_choices(args, recipe)
    config = cli.training_config(args, **recipe.training)
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    pretrains = args.model == "bert" and not (args.preset or args.pretrained_backbone or args.from_scratch)
    splits = _splits(args, needs_unlabeled=pretrains or teacher is not None)
    if len(splits.train) < config.batch_size:
        raise UserError(f"{len(splits.train)} training reviews are fewer than one batch of {config.batch_size}")
    if not len(splits.validation):
        raise UserError("no review is left for validation: raise --train-examples or --validation-fraction")
    print(f"IMDB: {len(splits.train):,} train, {len(splits.validation):,} validation, {len(splits.test):,} test "
          f"reviews" + (f", {len(splits.unlabeled):,} unlabeled" if pretrains or teacher else ""))
    run.open({
        "model": args.model, "train_examples": len(splits.train), "validation_examples": len(splits.validation),
        "test_examples": len(splits.test), "vocabulary_size": args.vocabulary_size,
        "sequence_length": args.sequence_length, "preset": args.preset,
        "pretrained_backbone": args.pretrained_backbone, "from_scratch": args.from_scratch,
        "pretrain_epochs": args.pretrain_epochs, "pretrain_batch_size": args.pretrain_batch_size,
        "teacher": teacher, "unlabeled_examples": len(splits.unlabeled),
        "data": fingerprint(splits.train.texts, splits.train.labels, splits.validation.texts, splits.unlabeled),
    })
    training_split, extra = splits.train, {}
    if teacher is not None:
        verdicts = run.learned_once(
            "teacher/unlabeled_probabilities.json",
            lambda: teach(RECIPES[teacher], teacher, splits, config=config, strategy=run.strategy,
                          run_directory=RunDirectory.create(TASK, run.directory.path / "teacher")),
            save_verdicts, load_verdicts)
        training_split = imdb.LabeledTexts(*with_soft_targets(splits.train.texts, splits.train.labels,
                                                              splits.unlabeled, verdicts.probabilities))
        extra["teacher"] = verdicts.record
    classifier = _classifier(args, recipe, run, splits, pretrains)
    result = fit_classifier(run.fit, classifier, training_split, splits.validation, config)
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    # One pass over the test set gives the figures and the evaluation beyond them.
    test_logits = logits(result.model, splits.test, classifier.encoder, config.batch_size)
    probabilities = keras.ops.convert_to_numpy(keras.ops.sigmoid(test_logits))
    evaluation = evaluate_classifier(splits.test.labels, probabilities, CLASS_NAMES)
    loss = keras.losses.BinaryCrossentropy(from_logits=True)(splits.test.labels[:, None], test_logits[:, None])
    test_metrics = {"accuracy": evaluation["accuracy"], "loss": float(loss)}

    encode = classifier.encoder.encode
    endpoints = {"serving_default": binary_text_classifier_endpoint(result.model, encode)}
    if len(result.model.inputs) == 1:  # The network alone, for `compress` (BERT's three inputs are not yet).
        endpoints.update(encode=text_encoding_endpoint(encode), score=binary_classifier_endpoint(result.model))
    export = Export(endpoints, track=classifier.encoder.track, files=classifier.encoder.files,
                    metadata={"inputs": "texts: string [batch] (raw review text)",
                              "outputs": "probability: float32 [batch] (of a positive review); label: int32 "
                                         "[batch] (1 positive, 0 negative)"})
    return run.finish(
        result, args.model, export, MODEL_CARD,
        report=lambda metrics: _write_report(run.directory, args.model, metrics, splits.test, probabilities),
        summary=lambda metrics: (
            f"{args.model}: test accuracy {test_metrics['accuracy']:.4f} on {len(splits.test):,} reviews, "
            f"loss {test_metrics['loss']:.4f} | {metrics['params']:,} parameters, {metrics['epochs']} epochs in "
            f"{metrics['train_seconds']:.0f} s ({metrics['train_examples_per_second']:.0f} reviews/s)"),
        test_metrics=test_metrics, evaluation=evaluation, extra={**extra, **classifier.figures},
    )


def _write_report(run_directory, model_name, metrics, test, probabilities):
    """`report.html` and `report.md` of the run, with the reviews it is most confidently wrong about."""
    from keras_apps.evaluate.classification import most_confident_mistakes
    from keras_apps.evaluate.report import Table
    from keras_apps.evaluate.run_report import write_classifier_report

    rows = []
    for index in most_confident_mistakes(test.labels, probabilities, count=10):
        text = " ".join(test.texts[index].split())
        confidence = max(probabilities[index], 1 - probabilities[index])
        rows.append((CLASS_NAMES[test.labels[index]], f"{confidence:.3f}",
                     text if len(text) <= 400 else text[:397] + "..."))
    mistakes = [Table(["true", "confidence in the wrong class", "review (first 400 characters)"], rows)]
    write_classifier_report(run_directory, title=f"IMDB, {model_name}", metrics=metrics,
                            evaluation=metrics["evaluation"], mistakes=mistakes)


def _scores(serve, texts, batch_size=500):
    """P(positive) for each text, from an export's serving signature."""
    import numpy as np
    import tensorflow as tf

    outputs = [
        serve(texts=tf.constant(texts[start:start + batch_size], tf.string))["probability"].numpy()
        for start in range(0, len(texts), batch_size)
    ]
    return np.concatenate(outputs) if outputs else np.zeros(0, np.float32)


def evaluate(args):
    import numpy as np

    from keras_apps.export.saved_model import load_serving

    version_path, serve = load_serving(args.export_dir, task=TASK)
    test = imdb.load(args.data_dir).test.take(args.test_examples)
    probabilities = _scores(serve, test.texts)
    accuracy = float(((probabilities >= 0.5) == (test.labels == 1)).mean())
    likelihood = np.where(test.labels == 1, probabilities, 1 - probabilities)
    loss = float(-np.log(np.clip(likelihood, 1e-7, 1.0)).mean())
    print(f"{version_path}: test accuracy {accuracy:.4f}, loss {loss:.4f} on {len(test):,} reviews")
    return 0


def predict(args):
    from keras_apps.export.saved_model import load_serving

    reviews = list(args.reviews) + [review for path in args.file for review in files.read_lines(path)]
    if not reviews:
        raise UserError("give reviews to classify as arguments or with --file")
    _, serve = load_serving(args.export_dir, task=TASK)
    for review, probability in zip(reviews, _scores(serve, reviews)):
        label = "positive" if probability >= 0.5 else "negative"
        preview = " ".join(review.split())
        preview = preview if len(preview) <= 60 else preview[:57] + "..."
        print(f"{label} {probability:.3f}  {preview}")
    return 0


def compress(args):
    from keras_apps.compress import suite
    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.inference.serving import binary_classifier_endpoint
    from keras_apps.training.run_directory import RunDirectory

    import numpy as np
    import tensorflow as tf

    export_path = resolve_task_export(args.export_dir, TASK)
    encode = _encode_signature(export_path)

    def encoded(texts):
        return {"inputs": encode(texts=tf.constant(texts, tf.string))["inputs"].numpy()}

    data = imdb.load(args.data_dir)
    test = data.test.take(args.test_examples)
    count = min(args.representative_examples, len(data.train))
    sample = np.random.default_rng(args.seed).choice(len(data.train), count, replace=False)
    batch = 128  # Dense n-gram features are 800 KB a review: encode and score the test set in slices.
    subject = suite.Subject(
        export_path=export_path,
        signature="score",
        endpoint=binary_classifier_endpoint,
        label_output="label",
        test_batches=lambda: (
            (encoded(test.texts[start:start + batch]), test.labels[start:start + batch])
            for start in range(0, len(test), batch)
        ),
        representative=[encoded(data.train.texts[index:index + 1]) for index in sample],
        timing_batch=encoded(data.test.texts[:64]),
    )
    directory = RunDirectory.create(f"{TASK}-compress", args.run_dir).path
    print(f"Compressing the network of {export_path} into {directory} (the text encoding stays in TensorFlow)")
    report = suite.Report(directory, f"IMDB, {len(test):,} test reviews (the network, after text encoding)")
    network = suite.write_network(subject, subject.load_model(), directory, "network")
    suite.quantize(subject, directory, report, saved_model=network)
    print("\n".join(["", *suite.summary(report.rows), f"report: {directory / 'compression.md'}"]))
    return 0


def _encode_signature(export_path):
    from keras_apps.export.saved_model import load_serving

    try:
        return load_serving(export_path, signature="encode", task=TASK)[1]
    except UserError:
        raise UserError(f"{export_path} has no 'encode' signature: BERT exports and exports older than this "
                        "command are not supported; train and export again") from None


def explain(args):
    from keras_apps.explain.text import (
        explain_features, explain_tokens, word_attributions, wordpiece_words, words, write_shaded_html,
    )
    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.text.vocabulary import load_vocabulary

    import keras
    import numpy as np
    import tensorflow as tf

    if args.review and args.file:
        raise UserError("give a review or --file, not both")
    review = args.review if args.file is None else "\n".join(files.read_lines(args.file))
    if not review.strip():
        raise UserError("give a review to explain, as an argument or with --file")
    export_path = resolve_task_export(args.export_dir, TASK)
    encode = _encode_signature(export_path)
    model = keras.saving.load_model(export_path / "model.keras", compile=False)
    inputs = encode(texts=tf.constant([review]))["inputs"].numpy()[0]
    if (export_path / "ngrams.txt").is_file():
        ngrams = (export_path / "ngrams.txt").read_text(encoding="utf-8").split("\n")
        attribution = explain_features(model, inputs, steps=args.steps)
        present = {ngrams[index]: float(attribution.values[index]) for index in np.flatnonzero(inputs)}
        tokens = words(imdb.clean(review))
        values = word_attributions(tokens, present)
    else:
        vocabulary = load_vocabulary(export_path / "vocabulary.txt")
        attribution, token_ids = explain_tokens(model, inputs, steps=args.steps)
        tokens, values = wordpiece_words([vocabulary[index] for index in token_ids], attribution.values)
    probability = 1 / (1 + np.exp(-attribution.output))
    label = "positive" if probability >= 0.5 else "negative"
    summary = (f"{label}, P(positive) {probability:.3f}. Integrated gradients of the logit "
               f"({attribution.output:+.3f}; {attribution.baseline_output:+.3f} with no input) over "
               f"{args.steps} steps; the attributions sum to {attribution.values.sum():+.3f} "
               f"(completeness gap {attribution.completeness_gap:.4f}). Model: {export_path}.")
    output = Path(args.output)
    write_shaded_html(output, "Why the model read this review as it did", summary, tokens, values)
    print(f"{summary}\npage: {output}")
    return 0


def _add_test_examples(parser):
    parser.add_argument(
        "--test-examples", type=cli.positive_int,
        help="evaluate on N test reviews drawn at random, for a quick try (default: all 25,000)",
    )


def build_parser():
    parser, commands = cli.task_parser(
        TASK, "IMDB movie-review sentiment: train (the default command), evaluate, predict, compress or explain.",
        COMMANDS,
    )

    train_parser = commands.add_parser(
        "train", help="train, evaluate on the test set, export (default)",
        description="Train a sentiment classifier on the IMDB reviews, evaluate it once on the 25,000 test "
        "reviews, and export a SavedModel that takes raw text.",
    )
    train_parser.add_argument(
        "--model", choices=sorted(RECIPES), default=DEFAULT_MODEL,
        help=f"bow: TF-IDF bigrams; nb-bow: naive-Bayes-weighted bigrams; lstm; transformer; bert: pre-trained "
        f"here, then fine-tuned (default: {DEFAULT_MODEL}, the most accurate for its time)",
    )
    cli.add_data_arguments(train_parser)
    train_parser.add_argument(
        "--validation-fraction", type=cli.fraction, default=0.1,
        help="share of the training reviews held out for validation (default: 0.1)",
    )
    train_parser.add_argument(
        "--train-examples", type=cli.positive_int,
        help="use N training reviews drawn at random, for a quick try (default: all 25,000)",
    )
    _add_test_examples(train_parser)
    text = train_parser.add_argument_group("text")
    text.add_argument(
        "--vocabulary-size", type=cli.positive_int, default=VOCABULARY_SIZE,
        help=f"WordPiece vocabulary size for lstm, transformer and bert (default: {VOCABULARY_SIZE:,})",
    )
    text.add_argument(
        "--sequence-length", type=cli.positive_int,
        help=f"tokens read per review (default: {SEQUENCE_LENGTH}; bert {BERT_SEQUENCE_LENGTH})",
    )
    bert = train_parser.add_argument_group("bert")
    bert.add_argument(
        "--pretrained-backbone", metavar="PATH",
        help="fine-tune a backbone an earlier run pre-trained (its run folder's backbone/) instead of "
        "pre-training again",
    )
    bert.add_argument(
        "--preset", metavar="NAME",
        help="fine-tune a keras-hub preset such as bert_tiny_en_uncased (needs the network to download it)",
    )
    bert.add_argument(
        "--from-scratch", action="store_true",
        help="no pre-training: the control that shows what pre-training buys",
    )
    bert.add_argument(
        "--pretrain-epochs", type=cli.positive_int, default=PRETRAINING.training["epochs"],
        help=f"masked-LM epochs over the unlabeled and training reviews (default: {PRETRAINING.training['epochs']})",
    )
    bert.add_argument(
        "--pretrain-batch-size", type=cli.positive_int, default=PRETRAINING.training["batch_size"],
        help=f"masked-LM batch size (default: {PRETRAINING.training['batch_size']})",
    )
    unlabeled = train_parser.add_argument_group("unlabeled reviews")
    unlabeled.add_argument(
        "--teacher", choices=[*sorted(name for name, recipe in RECIPES.items() if recipe.ngrams), "none"],
        help="lstm, transformer and bert: also learn from this model's P(positive) on the unlabeled reviews, the "
        "teacher trained first on the same labeled reviews; none: from the labels alone (default: "
        + ", ".join(f"{recipe.teacher} for {name}" for name, recipe in RECIPES.items() if recipe.teacher)
        + ", none for the others)",
    )
    unlabeled.add_argument(
        "--unlabeled-examples", type=cli.non_negative_int,
        help="use only the first N of the 50,000 unlabeled reviews, for pre-training or a teacher (default: all)",
    )
    cli.add_training_arguments(train_parser, TASK)
    cli.add_export_argument(train_parser, DEFAULT_EXPORT_DIR, loading=False)
    train_parser.set_defaults(handler=train)

    evaluate_parser = commands.add_parser(
        "evaluate", help="evaluate an export on the test set",
        description="Evaluate an exported model on the 25,000 IMDB test reviews, from their raw text.",
    )
    cli.add_export_argument(evaluate_parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(evaluate_parser)
    _add_test_examples(evaluate_parser)
    evaluate_parser.set_defaults(handler=evaluate)

    predict_parser = commands.add_parser(
        "predict", help="classify reviews with an export",
        description="Print each review's sentiment and P(positive).",
    )
    predict_parser.add_argument("reviews", nargs="*", type=cli.text, help="review texts (quote each one)")
    predict_parser.add_argument(
        "--file", action="append", default=[], metavar="PATH", help="a UTF-8 text file, one review per line"
    )
    cli.add_export_argument(predict_parser, DEFAULT_EXPORT_DIR, loading=True)
    predict_parser.set_defaults(handler=predict)

    compress_parser = commands.add_parser(
        "compress", help="quantize an export and measure every variant",
        description="Post-training quantization of an export's network to LiteRT (float32, dynamic-range, "
        "float16, int8) and Keras int8, each measured on the test set (size, gzip'd size, accuracy, batch-1 "
        "latency, batch-64 throughput) into compression.json and compression.md. The text encoding (string "
        "ops LiteRT lacks) stays in TensorFlow: the variants take the encoded reviews.",
    )
    cli.add_export_argument(compress_parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(compress_parser)
    _add_test_examples(compress_parser)
    cli.add_compression_arguments(compress_parser, TASK, ("quantize",))
    compress_parser.set_defaults(handler=compress)

    explain_parser = commands.add_parser(
        "explain", help="shade a review's words by what they did to the prediction",
        description="Integrated gradients of an export's logit for one review (on the embeddings of token "
        "models, on the n-gram features of bag-of-n-gram models), written as an HTML page with each word "
        "shaded green (toward positive) or red (toward negative).",
    )
    explain_parser.add_argument("review", nargs="?", default="", type=cli.text, help="the review text (quote it)")
    explain_parser.add_argument("--file", metavar="PATH", help="read the review from a UTF-8 text file instead")
    cli.add_export_argument(explain_parser, DEFAULT_EXPORT_DIR, loading=True)
    explain_parser.add_argument("--output", default="explanation.html",
                                help="the HTML page to write (default: explanation.html)")
    explain_parser.add_argument("--steps", type=cli.positive_int, default=64,
                                help="steps of the path integral; more is closer to exact (default: 64)")
    explain_parser.set_defaults(handler=explain)
    return parser


def main(argv=None):
    args = cli.parse_command_line(build_parser(), argv, COMMANDS)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(cli.run(main))
