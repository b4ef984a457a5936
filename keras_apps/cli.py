"""What every task's command line shares: argument types, the runner's flags, and one-line errors.

Task modules import this first, so the line below takes effect before TensorFlow is imported: it hides
TensorFlow's C++ info and warning logs, which would bury the progress bar. (A few lines that TensorFlow 2.21
prints while its libraries load come before its log settings and cannot be silenced this way.)
"""

import argparse
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_apps.errors import UserError
from keras_apps.training.config import LR_SCHEDULES, PRECISIONS, STRATEGIES, TrainingConfig


def _argument_type(convert, accept, requirement):
    """An argparse `type` that converts with `convert` and accepts values for which `accept` holds."""
    expected = "a whole number" if convert is int else "a number"

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {value}")
        return value

    return parse


positive_int = _argument_type(int, lambda value: value >= 1, "at least 1")
# Random seeds: TensorFlow and NumPy take 0 to 2**32 - 1; a seed that travels as an int32 tensor (an export's
# `seed` input) 0 to 2**31 - 1.
seed = _argument_type(int, lambda value: 0 <= value < 2**32, f"in [0, {2**32 - 1}]")
int32_seed = _argument_type(int, lambda value: 0 <= value < 2**31, f"in [0, {2**31 - 1}]")
non_negative_int = _argument_type(int, lambda value: value >= 0, "0 or more")
positive_float = _argument_type(float, lambda value: value > 0, "positive")
non_negative_float = _argument_type(float, lambda value: value >= 0, "0 or more")
fraction = _argument_type(float, lambda value: 0 < value < 1, "strictly between 0 and 1")
probability = _argument_type(float, lambda value: 0 <= value < 1, "in [0, 1)")


def text(value):
    """An argparse `type` for text: refuses what is not valid UTF-8 (Python hands such bytes over as surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("is not valid UTF-8 text (use a UTF-8 terminal, or --file)") from None
    return value


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but a bad command line is one line on stderr (`error: …`, exit 2), like every other
    error a user can fix, rather than the usage followed by the message."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def add_data_arguments(parser):
    parser.add_argument(
        "--data-dir",
        help="folder holding the dataset files (default: $KERAS_APPS_DATA, then ~/.keras/datasets; "
        "missing files are downloaded there when the network is available)",
    )


def add_training_arguments(parser, task, *, by_steps=False):
    """The runner's flags. Those left unset (None) take the chosen model's recipe defaults.

    A task that counts training in steps (`by_steps`, the language model) defines its own `--max-steps`
    and evaluation interval instead of `--epochs`.
    """
    group = parser.add_argument_group("training")
    if not by_steps:
        group.add_argument("--epochs", type=positive_int, help="passes over the training data (default: per model)")
    group.add_argument("--batch-size", type=positive_int, help="global batch size (default: per model)")
    group.add_argument("--learning-rate", type=positive_float, help="peak learning rate (default: per model)")
    group.add_argument("--weight-decay", type=non_negative_float,
                       help="AdamW's decoupled weight decay on weight matrices (default: per model)")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES, help="learning-rate schedule (default: per model)")
    group.add_argument(
        "--early-stopping", type=non_negative_int, default=0, metavar="PATIENCE",
        help="stop after PATIENCE epochs without a better validation loss (default: 0, off)",
    )
    group.add_argument(
        "--steps-per-execution", type=positive_int, metavar="N",
        help="training steps per call into the compiled graph (default: per model)",
    )
    group.add_argument(
        "--jit-compile", action=argparse.BooleanOptionalAction,
        help="compile the training step with XLA (default: per model)",
    )
    group.add_argument(
        "--precision", choices=PRECISIONS,
        help="float32, or mixed precision: 16-bit computation, float32 variables (default: per model)",
    )
    group.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    group.add_argument("--deterministic", action="store_true", help="make TensorFlow ops deterministic (slower)")
    group.add_argument(
        "--strategy", choices=STRATEGIES, default="auto",
        help="where to train: auto (a TPU, else all GPUs, else the CPU), cpu, gpu, mirrored (all GPUs, or two "
        "logical CPU devices), multi_worker (the cluster in $TF_CONFIG or a SLURM job; needs --run-dir), "
        "tpu ($TPU_NAME or this TPU VM's) (default: auto)",
    )
    group.add_argument(
        "--run-dir",
        help=f"where this run writes its logs and metrics (default: runs/{task}/<timestamp>); "
        "pointing it at an interrupted run resumes that run",
    )


def add_export_argument(parser, default, *, loading):
    """`--export-dir`: where a training run adds its next version, or (`loading`) which export to use."""
    if loading:
        help = f"an export version, or a folder of versions whose latest is used (default: {default})"
    else:
        help = f"versioned export folder; the run adds the next version (default: {default})"
    parser.add_argument("--export-dir", default=default, help=help)


def add_compression_arguments(parser, task, techniques):
    """The flags every task's `compress` command shares; `--techniques` where it has more than one."""
    if len(techniques) > 1:
        parser.add_argument(
            "--techniques", nargs="+", choices=techniques, default=list(techniques), metavar="TECHNIQUE",
            help=f"which techniques to apply: {', '.join(techniques)} (default: all)",
        )
    parser.add_argument(
        "--representative-examples", type=positive_int, default=200, metavar="N",
        help="training examples that calibrate int8 activation ranges (default: 200)",
    )
    parser.add_argument("--seed", type=seed, default=0, help="random seed of the samples drawn (default: 0)")
    parser.add_argument(
        "--run-dir", help=f"where the variants and the report go (default: runs/{task}-compress/<timestamp>)"
    )


def task_parser(task, description, commands):
    """The parser of `python -m tasks.<task>` and its sub-command set; `train` is the default command."""
    parser = ArgumentParser(
        prog=f"python -m tasks.{task}",
        description=description,
        epilog=f"Without a command, the flags go to train: see `python -m tasks.{task} train --help`.",
    )
    return parser, parser.add_subparsers(dest="command", metavar="{" + ",".join(commands) + "}")


def parse_command_line(parser, argv, commands, default="train"):
    """Parses `argv` with a parser of sub-commands, the `default` one when `argv` names none of `commands`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*commands, "-h", "--help"):
        argv.insert(0, default)
    return parser.parse_args(argv)


def training_config(args, **recipe):
    """A `TrainingConfig` from parsed flags, falling back to the model recipe's values for unset ones."""
    chosen = {
        "epochs": getattr(args, "epochs", None),
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "weight_decay": args.weight_decay,
        "lr_schedule": args.lr_schedule,
        "steps_per_execution": args.steps_per_execution,
        "jit_compile": args.jit_compile,
        "precision": args.precision,
    }
    if args.strategy == "multi_worker" and args.run_dir is None:  # checked before any worker joins the cluster
        raise UserError("--strategy multi_worker needs --run-dir, the same on every worker, so that a restarted "
                        "worker finds its backup")
    values = {**recipe, **{name: value for name, value in chosen.items() if value is not None}}
    return TrainingConfig(
        **values,
        early_stopping_patience=args.early_stopping,
        seed=args.seed,
        deterministic=args.deterministic,
        strategy=args.strategy,
    )


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
