"""Handwritten digits: train a convnet or a ResNet on MNIST, evaluate it once on the test set, export it.

    python -m tasks.mnist                          # train the default model, evaluate, export
    python -m tasks.mnist --model convnet --epochs 3
    python -m tasks.mnist evaluate                 # the latest export on the 10,000 test images
    python -m tasks.mnist predict digit.png more.npy
    python -m tasks.mnist compress                 # quantize, prune and distill the latest export, measured
    python -m tasks.mnist explain digit.png        # a heat map of the pixels behind the prediction
"""

import argparse
import sys
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field

from keras_apps import cli
from keras_apps.data import mnist
from keras_apps.data.labeled_images import split_validation
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.models import build_convnet, build_mlp, build_resnet

TASK = "mnist"
DEFAULT_EXPORT_DIR = "saved_models/mnist"
COMMANDS = ("train", "evaluate", "predict", "compress", "explain")


MODEL_CARD = CardText(
    description="A handwritten-digit classifier: a 28x28 grayscale image (white digit on black, uint8) in, "
    "the probabilities of the digits 0-9 out.",
    data="MNIST (LeCun et al.): 60,000 training images (the last 10 % held out for validation) and 10,000 "
    "test images of digits written by US Census employees and high-school students, centred in 28x28.",
    intended_use="Teaching and demonstrating image classification, export and compression; reading "
    "digits that look like MNIST's: one centred digit per image, light on dark.",
    limits="Not for documents as they come: dark-on-light digits, several digits, other scripts or "
    "writing styles far from MNIST's, or images that are not digits at all get a confident answer anyway "
    "(there is no 'none of these' class). Accuracy on MNIST's test set says little about other data.",
)


@dataclass(frozen=True)
class Recipe:
    """A model and the training settings that suit it (flags override the settings)."""

    build: Callable
    augment: bool
    training: dict = field(default_factory=dict)


RECIPES = {
    # The keras.io classic convnet (34,826 parameters), with augmentation and warm-up + cosine decay.
    "convnet": Recipe(build_convnet, augment=True, training=dict(epochs=20, batch_size=128, learning_rate=3e-3)),
    # A ResNet-14 of width 16 with batch normalization (176,090 parameters): the most accurate, the default.
    "resnet": Recipe(build_resnet, augment=True, training=dict(epochs=15, batch_size=128, learning_rate=3e-3)),
}
DEFAULT_MODEL = "resnet"
VALIDATION_FRACTION = 0.1
CLASS_NAMES = [str(digit) for digit in range(mnist.NUM_CLASSES)]

# The distillation student: an MLP with room to take in the teacher's soft outputs (bench/NOTES.md).
STUDENT = dict(hidden_units=(128,))
STUDENT_EPOCHS = 20
TECHNIQUES = ("quantize", "prune", "distill")


def train(args):
    from keras_apps.data.image_pipeline import RandomAffine, image_dataset
    from keras_apps.evaluate.classification import evaluate_classifier
    from keras_apps.inference.serving import classifier_endpoint
    from keras_apps.lifecycle import Export, fingerprint, start_run

    import keras
    import tensorflow as tf

    recipe = RECIPES[args.model]
    config = cli.training_config(args, **recipe.training)
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    data = mnist.load(args.data_dir, source=args.source)
    train_split, validation_split = split_validation(data.train.take(args.train_examples), args.validation_fraction)
    if len(train_split) < config.batch_size:
        raise UserError(f"{len(train_split)} training examples are fewer than one batch of {config.batch_size}")
    if not len(validation_split):
        raise UserError("no image is left for validation: raise --train-examples or --validation-fraction")
    print(f"MNIST: {len(train_split)} train, {len(validation_split)} validation, {len(data.test)} test images")
    augment = recipe.augment if args.augment is None else args.augment
    run.open({"model": args.model, "source": args.source, "train_examples": len(train_split),
              "validation_examples": len(validation_split), "augment": augment,
              "data": fingerprint(train_split.images, train_split.labels, validation_split.labels)})

    augmenter = RandomAffine(seed=config.seed) if augment else None
    train_dataset = image_dataset(
        train_split, config.batch_size, shuffle=True, seed=config.seed, augment=augmenter, drop_remainder=True
    )
    validation_dataset = image_dataset(validation_split, config.batch_size)
    result = run.fit(
        lambda: recipe.build(input_shape=mnist.IMAGE_SHAPE, num_classes=mnist.NUM_CLASSES),
        train_dataset, validation_dataset,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
    )
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    # One pass over the test set gives the figures and the evaluation beyond them.
    logits = keras.ops.cast(result.model.predict(image_dataset(data.test, config.batch_size), verbose=0), "float32")
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    evaluation = evaluate_classifier(data.test.labels, probabilities, CLASS_NAMES)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(data.test.labels, logits)
    test_metrics = {"accuracy": evaluation["accuracy"], "loss": float(loss)}

    images_spec = tf.TensorSpec([None, *mnist.IMAGE_SHAPE], tf.uint8, name="images")
    export = Export({"serving_default": classifier_endpoint(result.model, images_spec)},
                    metadata={"inputs": "images: uint8 [batch, 28, 28]",
                              "outputs": "probabilities: float32 [batch, 10]; class: int32 [batch]"})
    return run.finish(
        result, args.model, export, MODEL_CARD,
        report=lambda metrics: _write_report(run.directory, args.model, metrics, data.test, probabilities),
        summary=lambda metrics: (
            f"{args.model}: test accuracy {test_metrics['accuracy']:.4f}, loss {test_metrics['loss']:.4f} | "
            f"{metrics['params']:,} parameters, {metrics['epochs']} epochs in {metrics['train_seconds']:.0f} s "
            f"({metrics['train_examples_per_second']:.0f} examples/s)"),
        test_metrics=test_metrics, evaluation=evaluation,
    )


def _write_report(run_directory, model_name, metrics, test, probabilities):
    """`report.html` and `report.md` of the run, with the test images it is most confidently wrong about."""
    from keras_apps.evaluate.classification import most_confident_mistakes
    from keras_apps.evaluate.plots import plot_image_grid
    from keras_apps.evaluate.report import Image
    from keras_apps.evaluate.run_report import write_classifier_report

    worst = most_confident_mistakes(test.labels, probabilities, count=12)
    captions = [f"true {test.labels[i]}, said {probabilities[i].argmax()} ({probabilities[i].max():.2f})"
                for i in worst]
    grid = plot_image_grid(test.images[worst], captions, run_directory.path / "mistakes.png", columns=6)
    mistakes = [Image(grid, f"the {len(worst)} test images the model is most confidently wrong about")]
    write_classifier_report(run_directory, title=f"MNIST, {model_name}", metrics=metrics,
                            evaluation=metrics["evaluation"], mistakes=mistakes)


def _predict_batches(serve, images, batch_size=1000):
    """Class probabilities from an export's serving signature, after checking the inputs fit it."""
    import numpy as np

    from keras_apps.export.saved_model import check_inputs

    check_inputs(serve, images)
    outputs = [serve(images=images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    return np.concatenate([output["probabilities"].numpy() for output in outputs])


def evaluate(args):
    import numpy as np

    from keras_apps.export.saved_model import load_serving

    version_path, serve = load_serving(args.export_dir, task=TASK)
    test = mnist.load(args.data_dir, source=args.source).test
    probabilities = _predict_batches(serve, test.images)
    predicted = probabilities.argmax(axis=-1)
    accuracy = float((predicted == test.labels).mean())
    loss = float(-np.log(np.clip(probabilities[np.arange(len(test)), test.labels], 1e-12, 1.0)).mean())
    print(f"{version_path}: test accuracy {accuracy:.4f}, loss {loss:.4f} on {len(test)} images")
    return 0


def predict(args):
    from keras_apps.data.image_files import read_images
    from keras_apps.export.saved_model import load_serving

    images, names = read_images(args.files, mnist.IMAGE_SHAPE)
    _, serve = load_serving(args.export_dir, task=TASK)
    probabilities = _predict_batches(serve, images)
    for name, row in zip(names, probabilities):
        print(f"{name}: {row.argmax()} ({row.max():.3f})")
    return 0


def compress(args):
    from keras_apps.compress import suite
    from keras_apps.data.image_pipeline import RandomAffine, image_dataset
    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.inference.serving import classifier_endpoint
    from keras_apps.training.run_directory import RunDirectory

    import keras
    import numpy as np
    import tensorflow as tf

    export_path = resolve_task_export(args.export_dir, TASK)
    data = mnist.load(args.data_dir, source=args.source)
    train_split, _ = split_validation(data.train, VALIDATION_FRACTION)  # The images the export trained on.
    count = min(args.representative_examples, len(train_split))
    sample = np.random.default_rng(args.seed).choice(len(train_split), count, replace=False)
    images_spec = tf.TensorSpec([None, *mnist.IMAGE_SHAPE], tf.uint8, name="images")
    test = data.test.take(args.test_examples)
    subject = suite.Subject(
        export_path=export_path,
        signature="serving_default",
        endpoint=lambda model: classifier_endpoint(model, images_spec),
        label_output="class",
        test_batches=lambda: (
            ({"images": test.images[start:start + 1000]}, test.labels[start:start + 1000])
            for start in range(0, len(test), 1000)
        ),
        representative=[{"images": train_split.images[index:index + 1]} for index in sample],
        timing_batch={"images": data.test.images[:64]},
    )
    directory = RunDirectory.create(f"{TASK}-compress", args.run_dir).path
    print(f"Compressing {export_path} into {directory} ({', '.join(args.techniques)})")
    report = suite.Report(directory, f"MNIST, {len(test):,} test images")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_dataset(augment):
        return image_dataset(train_split.take(args.train_examples), 128, shuffle=True, seed=args.seed,
                             augment=RandomAffine(seed=args.seed) if augment else None, drop_remainder=True)

    if "quantize" in args.techniques:
        suite.quantize(subject, directory, report)
    if "prune" in args.techniques:  # Fine-tuned as the export was trained: on augmented images.
        suite.prune(subject, train_dataset(augment=True), directory, report, sparsity=args.sparsity,
                    epochs=args.prune_epochs, learning_rate=args.prune_learning_rate, loss=loss)
    if "distill" in args.techniques:  # Without augmentation, the student overfits and the teacher's help shows.
        suite.distill(
            subject, subject.load_model(),
            lambda: build_mlp(input_shape=mnist.IMAGE_SHAPE, num_classes=mnist.NUM_CLASSES, **STUDENT),
            train_dataset(augment=False), directory, report, seeds=range(1, args.distill_seeds + 1),
            epochs=args.student_epochs, learning_rate=args.student_learning_rate, loss=loss,
            temperature=args.temperature, alpha=args.alpha,
        )
    print("\n".join(["", *suite.summary(report.rows), f"report: {directory / 'compression.md'}"]))
    return 0


def explain(args):
    from keras_apps.data.image_files import read_images
    from keras_apps.explain.images import explain_image, plot_explanation
    from keras_apps.export.saved_model import resolve_task_export

    import keras

    images, names = read_images([args.image], mnist.IMAGE_SHAPE)
    export_path = resolve_task_export(args.export_dir, TASK)
    model = keras.saving.load_model(export_path / "model.keras", compile=False)
    explanation = explain_image(model, images[0], steps=args.steps)
    output = Path(args.output or f"{Path(args.image).stem}-explained.png")
    plot_explanation(images[0], explanation, output, title=names[0])
    attribution = explanation.attribution
    print(f"{names[0]}: {explanation.predicted} ({explanation.probability:.3f}); attributions sum to "
          f"{attribution.values.sum():.3f} of the logit's {attribution.output - attribution.baseline_output:.3f} "
          f"rise from a black image (gap {attribution.completeness_gap:.3f}, {args.steps} steps)\n"
          f"heat map: {output}")
    return 0


def build_parser():
    parser, commands = cli.task_parser(
        TASK, "MNIST handwritten digits: train (the default command), evaluate, predict, compress or explain.",
        COMMANDS,
    )

    train_parser = commands.add_parser(
        "train", help="train, evaluate on the test set, export (default)",
        description="Train a model on MNIST, evaluate it once on the 10,000 test images, and export it.",
    )
    train_parser.add_argument(
        "--model", choices=sorted(RECIPES), default=DEFAULT_MODEL, help=f"architecture (default: {DEFAULT_MODEL})"
    )
    cli.add_data_arguments(train_parser)
    train_parser.add_argument(
        "--source", choices=mnist.SOURCES, default="file",
        help="file: mnist.npz; tfds: a tensorflow-datasets directory given by --data-dir (default: file)",
    )
    train_parser.add_argument(
        "--validation-fraction", type=cli.fraction, default=VALIDATION_FRACTION,
        help="share of the training images held out for validation (default: 0.1)",
    )
    train_parser.add_argument(
        "--train-examples", type=cli.positive_int,
        help="use only the first N training images, for a quick try (default: all 60,000)",
    )
    train_parser.add_argument(
        "--augment", action=argparse.BooleanOptionalAction,
        help="random rotations, shifts and zooms of the training images (default: per model, on for both)",
    )
    cli.add_training_arguments(train_parser, TASK)
    cli.add_export_argument(train_parser, DEFAULT_EXPORT_DIR, loading=False)
    train_parser.set_defaults(handler=train)

    evaluate_parser = commands.add_parser(
        "evaluate", help="evaluate an export on the test set",
        description="Evaluate an exported model on the 10,000 MNIST test images.",
    )
    cli.add_export_argument(evaluate_parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(evaluate_parser)
    evaluate_parser.add_argument("--source", choices=mnist.SOURCES, default="file", help="as for train")
    evaluate_parser.set_defaults(handler=evaluate)

    predict_parser = commands.add_parser(
        "predict", help="classify PNG images or .npy arrays with an export",
        description="Classify 28x28 grayscale PNGs (white digit on black, as in MNIST) or .npy uint8 arrays "
        "of shape [n, 28, 28].",
    )
    predict_parser.add_argument("files", nargs="+", help="PNG files and/or .npy arrays")
    cli.add_export_argument(predict_parser, DEFAULT_EXPORT_DIR, loading=True)
    predict_parser.set_defaults(handler=predict)

    compress_parser = commands.add_parser(
        "compress", help="quantize, prune and distill an export, and measure every variant",
        description="Compress an export: post-training quantization to LiteRT (float32, dynamic-range, "
        "float16, int8) and Keras int8; magnitude pruning during fine-tuning; a distilled student against "
        "the same student trained alone. Every variant is measured on the test set (size, gzip'd size, "
        "accuracy, batch-1 latency, batch-64 throughput) into compression.json and compression.md.",
    )
    cli.add_export_argument(compress_parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(compress_parser)
    compress_parser.add_argument("--source", choices=mnist.SOURCES, default="file", help="as for train")
    cli.add_compression_arguments(compress_parser, TASK, TECHNIQUES)
    compress_parser.add_argument(
        "--train-examples", type=cli.positive_int,
        help="fine-tune and distill on the first N training images, for a quick try (default: all)",
    )
    compress_parser.add_argument(
        "--test-examples", type=cli.positive_int, help="measure accuracy on the first N test images (default: all)"
    )
    group = compress_parser.add_argument_group("pruning")
    group.add_argument("--sparsity", type=cli.probability, default=0.8,
                       help="share of each dense and convolution kernel set to zero, in [0, 1) (default: 0.8)")
    group.add_argument("--prune-epochs", type=cli.positive_int, default=2,
                       help="epochs of fine-tuning while pruning (default: 2)")
    group.add_argument("--prune-learning-rate", type=cli.positive_float, default=3e-4,
                       help="Adam learning rate of the fine-tuning (default: 3e-4)")
    group = compress_parser.add_argument_group("distillation")
    group.add_argument("--distill-seeds", type=cli.positive_int, default=3,
                       help="train the student alone and distilled with seeds 1..N (default: 3)")
    group.add_argument("--student-epochs", type=cli.positive_int, default=STUDENT_EPOCHS,
                       help=f"epochs of training for each student (default: {STUDENT_EPOCHS})")
    group.add_argument("--student-learning-rate", type=cli.positive_float, default=3e-3,
                       help="peak Adam learning rate of the students, cosine-decayed (default: 3e-3)")
    group.add_argument("--temperature", type=cli.positive_float, default=4.0,
                       help="softmax temperature of the distillation loss (default: 4)")
    group.add_argument("--alpha", type=cli.probability, default=0.1,
                       help="weight of the true-label loss; 1 - alpha weighs the teacher's (default: 0.1)")
    compress_parser.set_defaults(handler=compress)

    explain_parser = commands.add_parser(
        "explain", help="a heat map of the pixels behind an export's prediction",
        description="Integrated gradients of the predicted digit's logit, from a black image to the given one, "
        "drawn as a heat map beside the image (red pixels raised the score, blue lowered it).",
    )
    explain_parser.add_argument(
        "image", help="a 28x28 grayscale PNG (white digit on black), or a .npy array (its first image)"
    )
    cli.add_export_argument(explain_parser, DEFAULT_EXPORT_DIR, loading=True)
    explain_parser.add_argument("--output", help="the PNG to write (default: <image name>-explained.png)")
    explain_parser.add_argument("--steps", type=cli.positive_int, default=64,
                                help="steps of the path integral; more is closer to exact (default: 64)")
    explain_parser.set_defaults(handler=explain)
    return parser


def main(argv=None):
    args = cli.parse_command_line(build_parser(), argv, COMMANDS)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(cli.run(main))
