"""What every task's command line shares: argument types, the runner's flags, and one-line errors."""

import argparse
import os
import sys

from keras_apps.errors import UserError
from keras_apps.training.config import LR_SCHEDULES, STRATEGIES, TrainingConfig


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {value}")
    return value


def add_data_arguments(parser):
    parser.add_argument(
        "--data-dir",
        help="folder holding the dataset files (default: $KERAS_APPS_DATA, then ~/.keras/datasets; "
        "missing files are downloaded there when the network is available)",
    )


def add_training_arguments(parser, task):
    """The runner's flags. Those left unset (None) take the chosen model's recipe defaults."""
    defaults = TrainingConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int, help="passes over the training data (default: per model)")
    group.add_argument("--batch-size", type=positive_int, help="global batch size (default: per model)")
    group.add_argument("--learning-rate", type=positive_float, help="peak learning rate (default: per model)")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES, help="learning-rate schedule (default: per model)")
    group.add_argument(
        "--early-stopping", type=non_negative_int, default=0, metavar="PATIENCE",
        help="stop after PATIENCE epochs without a better validation loss (default: 0, off)",
    )
    group.add_argument(
        "--steps-per-execution", type=positive_int, default=defaults.steps_per_execution, metavar="N",
        help=f"training steps per call into the compiled graph (default: {defaults.steps_per_execution})",
    )
    group.add_argument("--seed", type=int, default=defaults.seed, help=f"random seed (default: {defaults.seed})")
    group.add_argument("--deterministic", action="store_true", help="make TensorFlow ops deterministic (slower)")
    group.add_argument(
        "--strategy", choices=STRATEGIES, default="auto",
        help="where to train: auto (GPUs if any, else CPU), cpu, gpu, mirrored (all GPUs, or two logical "
        "CPU devices), tpu (default: auto)",
    )
    group.add_argument(
        "--run-dir",
        help=f"where this run writes its logs and metrics (default: runs/{task}/<timestamp>); "
        "pointing it at an interrupted run resumes that run",
    )


def training_config(args, **recipe):
    """A `TrainingConfig` from parsed flags, falling back to the model recipe's values for unset ones."""
    chosen = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "lr_schedule": args.lr_schedule,
    }
    values = {**recipe, **{name: value for name, value in chosen.items() if value is not None}}
    return TrainingConfig(
        **values,
        early_stopping_patience=args.early_stopping,
        seed=args.seed,
        deterministic=args.deterministic,
        steps_per_execution=args.steps_per_execution,
        strategy=args.strategy,
    )


def quiet_tensorflow():
    """Hides TensorFlow's C++ start-up chatter, which buries the progress bar on a CPU machine."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run(main, argv=None):
    """Runs `main(argv)` and turns a `UserError` into `error: …` on stderr with exit status 2."""
    try:
        return main(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun with the same --run-dir to resume from the last finished epoch", file=sys.stderr)
        return 130
