"""Handwritten digits: train a convnet or a ResNet on MNIST, evaluate it once on the test set, export it.

    python -m tasks.mnist                          # train the default model, evaluate, export
    python -m tasks.mnist --model convnet --epochs 3
    python -m tasks.mnist evaluate                 # the latest export on the 10,000 test images
    python -m tasks.mnist predict digit.png more.npy
    python -m tasks.mnist compress                 # quantize, prune and distill the latest export, measured
    python -m tasks.mnist explain digit.png        # a heat map of the pixels behind the prediction
"""

from dataclasses import dataclass
from pathlib import Path

from keras_apps import cli, progress, settings
from keras_apps.compress.config import Distillation, Pruning
from keras_apps.data import mnist
from keras_apps.data.labeled_images import split_validation
from keras_apps.export.model_card import CardText
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK = "mnist"
DEFAULT_EXPORT_DIR = "saved_models/mnist"
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
class ImageClassifier:
    """What an MNIST recipe trains besides its architecture (which `--model` names)."""

    augment: bool = settings.setting(True, help="random rotations, shifts and zooms of the training images")


RECIPES = {
    # The keras.io classic convnet (34,826 parameters), with augmentation and warm-up + cosine decay.
    "convnet": Recipe(ImageClassifier(augment=True), TrainingConfig(epochs=20, batch_size=128, learning_rate=3e-3)),
    # A ResNet-14 of width 16 with batch normalization (176,090 parameters): the most accurate, the default.
    "resnet": Recipe(ImageClassifier(augment=True), TrainingConfig(epochs=15, batch_size=128, learning_rate=3e-3)),
}
DEFAULT_MODEL = "resnet"
VALIDATION_FRACTION = 0.1
CLASS_NAMES = [str(digit) for digit in range(mnist.NUM_CLASSES)]

# The distillation student: an MLP with room to take in the teacher's soft outputs (bench/NOTES.md).
STUDENT = dict(hidden_units=(128,))
COMPRESS_BATCH = 128  # compress's fine-tuning and students; whole batches only
TECHNIQUES = ("quantize", "prune", "distill")


def train(args):
    import keras
    import tensorflow as tf

    from keras_apps.data.image_pipeline import RandomAffine, image_dataset
    from keras_apps.evaluate.classification import evaluate_logits
    from keras_apps.evaluate.run_report import image_explanations, image_mistakes, write_classifier_report
    from keras_apps.inference.serving import classifier_endpoint
    from keras_apps.lifecycle import Export, fingerprint, require_data, start_run
    from keras_apps.models.convnet import build_convnet
    from keras_apps.models.resnet import build_resnet
    from keras_apps.recipes import overlaid

    recipe = overlaid(RECIPES[args.model], args)
    config = recipe.training
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    data = mnist.load(args.data_dir, source=args.source)
    settings.count_within("--explain-examples", args.explain_examples, len(data.test), "images in MNIST's test split")
    train_examples = settings.count_within("--train-examples", args.train_examples, len(data.train),
                                           "images in MNIST's training split")
    train_split, validation_split = split_validation(data.train.take(train_examples), args.validation_fraction)
    require_data(len(train_split), len(validation_split), config.batch_size, "images")
    print(f"MNIST: {len(train_split)} train, {len(validation_split)} validation, {len(data.test)} test images")
    augment = recipe.model.augment
    run.open({"model": args.model, "source": args.source, "train_examples": len(train_split),
              "validation_examples": len(validation_split), "augment": augment,
              "data": fingerprint(train_split.images, train_split.labels, validation_split.images,
                                  validation_split.labels)})

    augmenter = RandomAffine(seed=config.seed) if augment else None
    train_dataset = image_dataset(
        train_split, config.batch_size, shuffle=True, seed=config.seed, augment=augmenter, drop_remainder=True
    )
    validation_dataset = image_dataset(validation_split, config.batch_size)
    build = {"convnet": build_convnet, "resnet": build_resnet}[args.model]
    result = run.fit(
        lambda: build(input_shape=mnist.IMAGE_SHAPE, num_classes=mnist.NUM_CLASSES),
        train_dataset, validation_dataset,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
    )
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    # One pass over the test set gives the figures and the evaluation beyond them.
    logits = result.model.predict(image_dataset(data.test, config.batch_size), verbose=progress.verbosity())
    probabilities, evaluation, test_metrics = evaluate_logits(data.test.labels, logits, CLASS_NAMES)

    images_spec = tf.TensorSpec([None, *mnist.IMAGE_SHAPE], tf.uint8, name="images")
    export = Export({"serving_default": classifier_endpoint(result.model, images_spec)},
                    metadata={"inputs": "images: uint8 [batch, 28, 28]",
                              "outputs": "probabilities: float32 [batch, 10]; class: int32 [batch]"})
    return run.finish(
        result, args.model, export, MODEL_CARD,
        report=lambda metrics: write_classifier_report(
            run.directory, title=f"MNIST, {args.model}", metrics=metrics, evaluation=evaluation,
            mistakes=image_mistakes(data.test.images, data.test.labels, probabilities,
                                    run.directory.path / "mistakes.png"),
            explanations=image_explanations(metrics["export"], TASK, data.test.images, run.directory.path,
                                            args.explain_examples)),
        summary=lambda metrics: (
            f"{args.model}: test accuracy {test_metrics['accuracy']:.4f}, loss {test_metrics['loss']:.4f} | "
            f"{metrics['params']:,} parameters, {metrics['trained_for']} "
            f"({metrics['train_examples_per_second']:.0f} examples/s)"),
        test_metrics=test_metrics, evaluation=evaluation,
    )


def evaluate(args):
    from keras_apps.evaluate.classification import accuracy_and_log_loss
    from keras_apps.export.saved_model import image_probabilities, load_serving

    version_path, serve = load_serving(args.export_dir, task=TASK)
    test = mnist.load(args.data_dir, source=args.source).test
    accuracy, loss = accuracy_and_log_loss(test.labels, image_probabilities(serve, test.images))
    print(f"{version_path}: test accuracy {accuracy:.4f}, loss {loss:.4f} on {len(test)} images")
    return 0


def predict(args):
    from keras_apps.data.image_files import read_images
    from keras_apps.export.saved_model import image_probabilities, load_serving

    images, names = read_images(args.files, mnist.IMAGE_SHAPE)
    _, serve = load_serving(args.export_dir, task=TASK)
    probabilities = image_probabilities(serve, images)
    for name, row in zip(names, probabilities):
        print(f"{name}: {row.argmax()} ({row.max():.3f})")
    return 0


def compress(args):
    import keras
    import tensorflow as tf

    from keras_apps.compress import suite
    from keras_apps.data.image_pipeline import RandomAffine, image_dataset
    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.inference.serving import classifier_endpoint
    from keras_apps.models.mlp import build_mlp

    export_path = resolve_task_export(args.export_dir, TASK)
    data = mnist.load(args.data_dir, source=args.source)
    train_split, _ = split_validation(data.train, VALIDATION_FRACTION)  # The images the export trained on.
    train_examples = settings.count_within("--train-examples", args.train_examples, len(train_split),
                                           "images in the training split the export learned from")
    suite.check_full_batch(train_examples or len(train_split), COMPRESS_BATCH, args.techniques)
    test = data.test.take(settings.count_within("--test-examples", args.test_examples, len(data.test),
                                                "images in MNIST's test split"))
    images_spec = tf.TensorSpec([None, *mnist.IMAGE_SHAPE], tf.uint8, name="images")
    subject = suite.Subject(
        export_path=export_path, signature="serving_default", label_output="class",
        endpoint=lambda model: classifier_endpoint(model, images_spec),
        test_batches=lambda: (({"images": test.images[start:start + 1000]}, test.labels[start:start + 1000])
                              for start in range(0, len(test), 1000)),
        representative=[{"images": train_split.images[index:index + 1]}
                        for index in suite.sample(args.representative_examples, len(train_split), args.seed)],
        timing_batch={"images": data.test.images[:64]},
    )
    report = suite.Report.create(TASK, args.run_dir, f"MNIST, {len(test):,} test images", export_path)
    directory = report.directory
    print(f"Compressing {export_path} into {directory} ({', '.join(args.techniques)})")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_dataset(augment):
        return image_dataset(train_split.take(train_examples), COMPRESS_BATCH, shuffle=True, seed=args.seed,
                             augment=RandomAffine(seed=args.seed) if augment else None, drop_remainder=True)

    if "quantize" in args.techniques:
        suite.quantize(subject, directory, report)
    if "prune" in args.techniques:  # Fine-tuned as the export was trained: on augmented images.
        suite.prune(subject, train_dataset(augment=True), directory, report, settings.overlay(Pruning(), args),
                    loss=loss, seed=args.seed)
    if "distill" in args.techniques:  # Without augmentation, the student overfits and the teacher's help shows.
        suite.distill(
            subject, subject.load_model(),
            lambda: build_mlp(input_shape=mnist.IMAGE_SHAPE, num_classes=mnist.NUM_CLASSES, **STUDENT),
            train_dataset(augment=False), directory, report, settings.overlay(Distillation(), args), loss=loss,
        )
    report.finish()
    return 0


def explain(args):
    from keras_apps.data.image_files import read_one_image
    from keras_apps.explain.images import ImageExplainer, plot_explanations

    image, name = read_one_image(args.image, mnist.IMAGE_SHAPE, "an explanation")
    output = Path(args.output or f"{Path(args.image).stem}-{args.method}.png")
    cli.check_output(output, ".png", reading=[args.image])  # before the explanation, not after
    explainer = ImageExplainer(args.export_dir, TASK)
    explained = explainer.explain(image, args.method, steps=args.steps, samples=args.samples, seed=args.seed)
    plot_explanations(image, [explained], output, title=name)
    print(f"{name}: {explained.predicted} ({explained.probability:.3f}); {explained.explanation.cost}"
          f"{'; ' + explained.note if explained.note else ''}\nmodel: {explainer.export_path}\nheat map: {output}")
    return 0


def _train_arguments(parser):
    parser.add_argument("--model", choices=sorted(RECIPES), default=DEFAULT_MODEL,
                        help=f"architecture (default: {DEFAULT_MODEL})")
    _add_data_arguments(parser)
    parser.add_argument("--validation-fraction", type=cli.fraction, default=VALIDATION_FRACTION,
                        help="share of the training images held out for validation (default: 0.1)")
    parser.add_argument("--train-examples", type=cli.positive_int,
                        help="use only the first N training images, for a quick try (default: all 60,000)")
    cli.add_training_arguments(parser, TASK, RECIPES)
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)
    cli.add_explain_examples_argument(parser)


def _add_data_arguments(parser):
    cli.add_data_arguments(parser)
    parser.add_argument("--source", choices=mnist.SOURCES, default="file",
                        help="file: mnist.npz; tfds: a tensorflow-datasets directory given by --data-dir "
                        "(default: file)")


def _evaluate_arguments(parser):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    _add_data_arguments(parser)


def _predict_arguments(parser):
    parser.add_argument("files", type=cli.path, nargs="+",
                        help="pictures of one digit each (PNG, any size) and/or .npy arrays")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)


def _compress_arguments(parser):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    _add_data_arguments(parser)
    cli.add_compression_arguments(parser, TASK, TECHNIQUES)
    parser.add_argument("--train-examples", type=cli.positive_int,
                        help="fine-tune and distill on the first N training images, for a quick try (default: all)")
    parser.add_argument("--test-examples", type=cli.positive_int,
                        help="measure accuracy on the first N test images (default: all)")
    settings.add_flags(parser.add_argument_group("pruning"), Pruning, default=None)
    settings.add_flags(parser.add_argument_group("distillation"), Distillation, default=None)


def _explain_arguments(parser):
    parser.add_argument("image", type=cli.path, help="a picture of one digit (PNG, any size), or a .npy array (its "
                        "first image)")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    parser.add_argument("--output", type=cli.path, help="the PNG to write (default: <image name>-<method>.png)")
    cli.add_explanation_arguments(parser)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "train, evaluate on the test set, export (default)",
                         "Train a model on MNIST, evaluate it once on the 10,000 test images, and export it."),
    "evaluate": cli.Command(evaluate, _evaluate_arguments, "evaluate an export on the test set",
                            "Evaluate an exported model on the 10,000 MNIST test images."),
    "predict": cli.Command(predict, _predict_arguments, "classify pictures or .npy arrays with an export",
                           "Classify pictures of one digit each, or .npy uint8 arrays of shape [n, 28, 28] in "
                           "MNIST's form (white digit on black). A picture is put in that form first: MNIST's own "
                           "28x28 digits as they are; a scan or drawing of any size, dark ink on light paper, "
                           "inverted, its ink scaled into 20x20 and centred, as MNIST's digits were made."),
    "compress": cli.Command(compress, _compress_arguments,
                            "quantize, prune and distill an export, and measure every variant",
                            "Compress an export: post-training quantization to LiteRT (float32, dynamic-range, "
                            "float16, int8) and Keras int8; magnitude pruning during fine-tuning; a distilled "
                            "student against the same student trained alone. Every variant is measured on the "
                            "test set (size, gzip'd size, accuracy, batch-1 latency, batch-64 throughput) into "
                            "compression.json and compression.md."),
    "explain": cli.Command(explain, _explain_arguments, "a heat map of the pixels behind an export's prediction",
                           "Explain the predicted digit, drawn as a heat map beside the image (red pixels raised "
                           "the score, blue lowered it): integrated gradients of its logit from a black image, or "
                           "LIME (superpixels) or SHAP (partition explainer) of its probability, blacking pixels "
                           "out."),
}


def main(argv=None):
    return cli.main(TASK, "MNIST handwritten digits: train (the default command), evaluate, predict, compress or "
                    "explain.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
