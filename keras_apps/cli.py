"""What every task's command line shares: its commands, the training flags, argument types and one-line errors.

Task modules import this first, so the line below takes effect before TensorFlow is imported: it hides
TensorFlow's C++ info and warning logs, which would bury the progress bar. A task module imports no TensorFlow
itself (its commands do, inside): `main` parses the command line first, so `--help` and a mistaken flag answer at
once, then loads TensorFlow without the lines its libraries print before that setting applies
(`keras_apps.tensorflow_start`).

A task declares its commands as a table of `Command`s, the default one first, and hands it to `main`:

    COMMANDS = {"train": cli.Command(train, add_train_arguments, "train, evaluate, export (default)", "…"), …}
    def main(argv=None):
        return cli.main(TASK, "What the task does.", COMMANDS, argv)
"""

import _thread
import argparse
import atexit
import contextlib
import io
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_apps import files, timing
from keras_apps.errors import UserError
from keras_apps.recipes import add_recipe_flags
from keras_apps.settings import (
    count_up_to, fraction, given_flags, int32_seed, non_negative_float, non_negative_int, path, port, positive_float,
    positive_float32, positive_int, probability, seed, several, text, text_or_file,
)
from keras_apps.tensorflow_start import import_tensorflow
from keras_apps.training.run_directory import OPENED_FOR_COMPRESSION, OPENED_FOR_TRAINING, release_held

__all__ = [  # the argument types are `keras_apps.settings`'s, offered here as `cli.<type>` to the tasks
    "ArgumentParser", "Command", "GivenOnce", "add_compression_arguments", "add_compression_run_dir_argument",
    "add_data_arguments", "add_explanation_arguments", "add_explain_examples_argument", "add_export_argument",
    "add_lora_argument", "add_modes_argument", "add_run_dir_argument", "add_training_arguments", "build_parser",
    "check_output",
    "count_up_to", "fraction", "given_texts", "int32_seed", "main", "non_negative_float", "non_negative_int",
    "parse_arguments", "path", "port", "positive_float", "positive_float32", "positive_int", "probability", "run",
    "seed", "several", "text", "text_or_file",
]


@dataclass(frozen=True)
class Command:
    """One command of a task: `run(args)` returns the exit status; `arguments(parser)` adds its flags."""

    run: Callable
    arguments: Callable
    help: str
    description: str


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but a bad command line is one line on stderr (`error: …`, exit 2), like every other
    error a user can fix, rather than the usage followed by the message."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


class GivenOnce(argparse.Action):
    """A flag that takes a list, refused the second time it is given (argparse keeps the last list, so the first
    was quietly dropped: `--techniques prune --techniques distill` only distilled), and a list naming a value
    twice (`--modes int8 int8` made and reported the int8 copy twice)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest, self.default) is not self.default:
            parser.error(f"{option_string} is given twice; name all its values after one {option_string}")
        repeated = sorted({str(value) for value in values if values.count(value) > 1})
        if repeated:
            parser.error(f"{option_string} names {', '.join(repeated)} more than once")
        setattr(namespace, self.dest, values)


def build_parser(task, description, commands):
    """The parser of `python -m tasks.<task>`: one sub-command per entry of `commands`, the first the default."""
    default = next(iter(commands))
    parser = ArgumentParser(
        prog=f"python -m tasks.{task}", description=description,
        epilog=f"Without a command, the flags go to {default}: see `python -m tasks.{task} {default} --help`.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="{" + ",".join(commands) + "}")
    for name, command in commands.items():
        subparser = subparsers.add_parser(name, help=command.help, description=command.description)
        command.arguments(subparser)
        subparser.set_defaults(handler=command.run)
    return parser


def parse_arguments(task, description, commands, argv):
    """The parsed command line `argv` (the first command's, the default, when it names no command)."""
    argv = list(argv)
    if not argv or argv[0] not in (*commands, "-h", "--help"):
        argv.insert(0, next(iter(commands)))
    parser = build_parser(task, description, commands)
    args, unknown = parser.parse_known_args(argv)
    command_parser = next(action for action in parser._actions if action.dest == "command").choices[args.command]
    if unknown:  # a flag of another command: pointed to the help of the command given, which lists its own
        command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    refusal = args.refuse_unused(args) if hasattr(args, "refuse_unused") else None
    if refusal:  # a flag the command's other choices make meaningless: refused, not quietly ignored
        command_parser.error(refusal)
    return args


def main(task, description, commands, argv=None):
    """Parses `argv` (the command line's when None) and runs the command it names."""
    timing.start_command(from_the_shell=argv is None)
    _printing_made_safe()
    args = parse_arguments(task, description, commands, sys.argv[1:] if argv is None else argv)
    import_tensorflow()
    return args.handler(args)


def _printing_made_safe():
    """Whatever the shell gave the command, printing raises nothing: a closed stdout or stderr (`>&-`, which
    Python leaves None) becomes the null device, and a character the stream's encoding lacks (`PYTHONIOENCODING=ascii`,
    a C locale) is written as an escape (`\\xe8`) rather than raising UnicodeEncodeError."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))
        stream = getattr(sys, name)
        if isinstance(stream, io.TextIOWrapper):  # not a notebook's own stream, which has no encoding to mind
            stream.reconfigure(errors="backslashreplace")


def add_data_arguments(parser):
    parser.add_argument(
        "--data-dir", type=path,
        help="folder holding the dataset files (default: $KERAS_APPS_DATA, then ~/.keras/datasets; "
        "missing files are downloaded there when the network is available)",
    )


def add_training_arguments(parser, task, recipes):
    """A group of flags per part of `recipes` (the task's recipes by name, or its only one: the model's, the
    training's, a schedule's) and `--run-dir`. Flags left unset take the chosen recipe's values
    (`keras_apps.recipes.overlaid`), which their help gives."""
    add_recipe_flags(parser, recipes)
    add_run_dir_argument(parser, task)


def add_run_dir_argument(parser, task):
    """`--run-dir` of a training command: where its run folder goes, the same folder again resumes it."""
    parser.add_argument(
        "--run-dir", type=path,
        help=f"where this run writes its logs and metrics (default: runs/{task}/<timestamp>); "
        "pointing it at an interrupted run resumes that run",
    )


def add_lora_argument(parser):
    """`--lora-rank R`: fine-tune through rank-R adapters (`keras_apps.training.lora`)."""
    parser.add_argument("--lora-rank", type=positive_int, metavar="R",
                        help="train rank-R LoRA adapters beside the frozen weights instead of every weight; they "
                        "are merged into the export (default: off, train every weight)")


def add_explain_examples_argument(parser):
    """`--explain-examples`: a classifier's report explains a few test inputs by every method."""
    parser.add_argument("--explain-examples", type=non_negative_int, default=0, metavar="N",
                        help="the run's report explains N test inputs by integrated gradients, LIME and SHAP, "
                        "side by side (default: 0)")


def add_export_argument(parser, default, *, loading):
    """`--export-dir`: where a training run adds its next version, or (`loading`) which export to use."""
    if loading:
        help = f"an export version, or a folder of versions whose latest is used (default: {default})"
    else:
        help = f"versioned export folder; the run adds the next version (default: {default})"
    parser.add_argument("--export-dir", type=path, default=default, help=help)


def add_modes_argument(parser, modes):
    """`--modes`, the weight formats a language model's or a translator's `compress` makes of its export."""
    parser.add_argument("--modes", nargs="+", action=GivenOnce, choices=modes, default=list(modes), metavar="MODE",
                        help=f"weight formats to make: {', '.join(modes)} (default: all)")


def add_compression_arguments(parser, task, techniques):
    """The flags every task's `compress` command shares; `--techniques` where it has more than one. A flag of a
    trained technique (`keras_apps.compress.config`'s, which the task adds unset unless given) is refused when
    `--techniques` leaves that technique out: it was given to change something."""
    if len(techniques) > 1:
        parser.add_argument(
            "--techniques", nargs="+", action=GivenOnce, choices=techniques, default=list(techniques),
            metavar="TECHNIQUE", help=f"which techniques to apply: {', '.join(techniques)} (default: all)",
        )
        parser.set_defaults(refuse_unused=_unused_compression_flag)
    parser.add_argument(
        "--representative-examples", type=positive_int, default=200, metavar="N",
        help="training examples that calibrate int8 activation ranges (default: 200)",
    )
    parser.add_argument("--seed", type=seed, default=0, help="random seed of the samples drawn (default: 0)")
    add_compression_run_dir_argument(parser, task)


def _unused_compression_flag(args):
    """The refusal of a flag given of a technique that `--techniques` leaves out, or None."""
    from keras_apps.compress.config import Distillation, Pruning

    for technique, settings_class in (("prune", Pruning), ("distill", Distillation)):
        given = given_flags(settings_class, args)
        if given and technique not in args.techniques:
            return f"{given[0]} applies to the {technique} technique only: add {technique} to --techniques"
    return None


def add_compression_run_dir_argument(parser, task):
    """`--run-dir` of a `compress` command: where its variants and report go."""
    parser.add_argument("--run-dir", type=path,
                        help=f"where the variants and the report go (default: runs/{task}-compress/<timestamp>)")


# How many perturbed copies LIME and SHAP may score (--samples): a handful fits no weights; the most fill memory.
LEAST_SAMPLES, MOST_SAMPLES = 10, 100_000


# Each explanation flag: the methods that read it (`keras_apps.explain`) and its value when not given.
EXPLANATION_FLAGS = {"steps": (("ig",), 64), "samples": (("lime", "shap"), 1000), "seed": (("lime",), 0)}


def add_explanation_arguments(parser):
    """The flags of every classifier's `explain`: the method and how much work it may do. A flag the method does
    not read is refused: it was given to change something."""
    from keras_apps.explain.perturbation import METHODS

    defaults = {name: default for name, (_, default) in EXPLANATION_FLAGS.items()}
    parser.add_argument("--method", choices=METHODS, default="ig",
                        help="integrated gradients (the model's gradients), LIME or SHAP (the export's predictions "
                        "of perturbed copies; the lime and shap libraries) (default: ig)")
    parser.add_argument("--steps", type=positive_int,
                        help=f"ig: steps of the path integral; more is closer to exact (default: {defaults['steps']})")
    parser.add_argument("--samples", type=count_up_to(MOST_SAMPLES, least=LEAST_SAMPLES),
                        help=f"lime: perturbed samples; shap: model evaluations, {LEAST_SAMPLES} to {MOST_SAMPLES:,} "
                        f"(fewer explain nothing: every value 0) (default: {defaults['samples']})")
    parser.add_argument("--seed", type=seed, help=f"lime: random seed of its samples (default: {defaults['seed']})")
    parser.set_defaults(refuse_unused=_unused_explanation_flag)


def _unused_explanation_flag(args):
    """The refusal of a flag given that `--method` does not read, or None once the flags not given (None) are set
    to their defaults."""
    for name, (methods, default) in EXPLANATION_FLAGS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
        elif args.method not in methods:
            return f"--{name} applies to --method {' or '.join(methods)} only"
    return None


def given_texts(texts, paths, what, *, keep_blank_lines=False, readable=None):
    """The texts given as arguments, then the lines of the files given with `--file`; one line of error if none,
    if an argument is blank (an answer about no text would read as one about something), or if a file holds none
    (it was given to be read: a mistaken file is not quietly skipped). A file's blank lines are left out, or kept
    (`keep_blank_lines`) by a command that answers line for line with no copy of the input (a translation), so
    that answer N stays beside line N. With `readable`, whether the command's model has anything to read in a text
    (`exports.read_words`), a text without (only markup such as `<br />`, punctuation, control or invisible
    characters) is as blank."""
    texts = list(texts)
    blank = [str(number) for number, given in enumerate(texts, start=1) if not given.strip()]
    wordless = [str(number) for number, given in enumerate(texts, start=1) if readable and not readable(given)]
    for numbers, how in ((blank, "blank"), (wordless, "without words (only markup, punctuation, control or "
                                                      "invisible characters)")):
        if numbers:
            raise UserError(f"argument {', '.join(numbers)} {'is' if len(numbers) == 1 else 'are'} {how}: "
                            f"{what} need some text")
    for file in paths:
        lines = files.read_lines(file, keep_blank=keep_blank_lines)
        if readable and not keep_blank_lines:
            lines = [line for line in lines if readable(line)]
        if not any(line.strip() for line in lines):
            raise UserError(f"{file} holds no lines of {what}")
        texts += lines
    if not texts:
        raise UserError(f"give {what} as arguments or with --file")
    return texts


def check_output(path, suffix, *, reading=()):
    """Refuses, in one line and before the work, an `--output` file the command cannot write
    (`files.check_writable_file`), one named as another format than the `suffix` it is written in (a `.jpg` holding
    PNG bytes), one of the files it reads (`reading`: the picture explained would be replaced by its heat map), or
    one inside a published export version (it would replace the export's own files)."""
    from keras_apps.export.saved_model import check_outside_exports

    path = Path(path)
    if path.suffix.lower() != suffix:
        raise UserError(f"--output {path}: the file written is {suffix[1:].upper()}; name a {suffix} file")
    if any(path.resolve() == Path(given).resolve() for given in reading):
        raise UserError(f"--output {path} is the file given to read; name another")
    files.check_writable_file(path, "--output")
    check_outside_exports(path.parent, "--output")


# Set by a pipeline (`keras_apps.preference.pipeline`) for the commands it runs: its own command line.
RESUME_WITH = "KERAS_APPS_RESUME_WITH"


def exit_process(status):
    """Ends a command typed in a shell with `status` once its output is flushed and the libraries' exit handlers
    have run, without the interpreter's teardown of TensorFlow and Keras (about a second, after the last file is
    written). The handlers are cleanups the libraries asked for, such as removing the source files AutoGraph
    writes to the temporary folder for every function it converts; skipping them left those files behind. Output
    its reader no longer takes (`| head`) ends a command that succeeded with `BROKEN_PIPE`."""
    atexit._run_exitfuncs()
    os._exit(BROKEN_PIPE if _flushed_or_silenced() and status == 0 else status)


# The exit status of a command whose reader went away (`| head`): a shell's for a command killed by SIGPIPE.
BROKEN_PIPE = 128 + signal.SIGPIPE


def _flushed_or_silenced():
    """Flushes stdout and stderr; one whose reader went away is pointed at the null device, so that what is left
    in its buffer, or printed later, is dropped rather than raising BrokenPipeError again (at the interpreter's
    exit, a traceback). Whether one had."""
    broken = False
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), stream.fileno())
            broken = True
    return broken


def run(main, argv=None):
    """Runs `main(argv)` and turns a `UserError`, or a write the system refused (a full disk, a read-only folder),
    into `error: …` on stderr with exit status 2, and Ctrl-C into one line with exit status 130, naming the run
    folder to resume from when the command was training. A reader of its output that went away (`| head`) stops
    it quietly, with the status of a command killed by SIGPIPE (the shell's own for `yes | head`): what comes after
    the printing is not done.

    A Ctrl-C raises KeyboardInterrupt wherever the command is, and a library may turn it into another error
    (TensorFlow's tracing) or swallow it (an exception raised in a destructor is only printed): an error after a
    Ctrl-C is taken as the interrupt it comes from, and a second Ctrl-C ends the process at once. Files are
    written atomically, so ending there leaves nothing half-written in their place."""
    OPENED_FOR_TRAINING.clear()
    OPENED_FOR_COMPRESSION.clear()
    with _ctrl_c_handled() as interrupted:
        try:
            return main(argv)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except SystemExit as exc:  # argparse's, after --help or a refused flag: its output flushed as any other's
            return 0 if exc.code is None else exc.code
        except BrokenPipeError:
            _flushed_or_silenced()
            if hint := _resume_hint():  # stopped mid-run, as a Ctrl-C would: say how to go on
                with contextlib.suppress(OSError):
                    print(f"stopped: its output's reader went away; rerun{hint}", file=sys.stderr, flush=True)
            return BROKEN_PIPE
        except Exception as exc:
            if interrupted:
                return _interrupted()
            if reason := files.storage_full(exc):
                written = f" writing {exc.filename}" if getattr(exc, "filename", None) else ""
                print(f"error: out of disk space ({reason}){written}: free some space, then rerun{_resume_hint()}",
                      file=sys.stderr)
            elif reason := files.access_refused(exc):
                print(f"error: the system refused a write{_to_what_exists(exc)} ({reason}): make it writable, then "
                      f"rerun{_resume_hint()}", file=sys.stderr)
            else:
                raise
            return 2
        except KeyboardInterrupt:
            return _interrupted()
        finally:
            release_held()  # the run folders it wrote, for the next command (`RunDirectory.hold`)


def _to_what_exists(exc):
    """" to <path>" for the file an error names, or the folder it was to be made in (an export's temporary, whose
    making was refused), or "" where it names none."""
    if not getattr(exc, "filename", None):
        return ""
    path = Path(exc.filename)
    return f" to {path if path.exists() else path.parent}"


def _interrupted():
    hint = _resume_hint()
    resume = f"; rerun{hint}" if hint else ""
    print(f"interrupted{resume}", file=sys.stderr, flush=True)
    return 130


def _resume_hint():
    """How to go on with the run this command opened (a default folder is new each time), or "": a training run
    resumes in its folder, in a stage of a pipeline by the pipeline's command (`RESUME_WITH`), which resumes the
    stage in its folder; an unfinished compression is made again, whole, in its folder."""
    if OPENED_FOR_TRAINING:
        if os.environ.get(RESUME_WITH):
            return f" `{os.environ[RESUME_WITH]}` to resume it"
        return f" with --run-dir {shlex.quote(str(OPENED_FOR_TRAINING[-1]))} to resume it"
    if OPENED_FOR_COMPRESSION:
        return f" with --run-dir {shlex.quote(str(OPENED_FOR_COMPRESSION[-1]))} to make the compression there"
    return ""


# How long after a destructor swallowed a Ctrl-C it is raised again: long enough for the destructor to return.
REDELIVERY_DELAY = 0.01


@contextlib.contextmanager
def _ctrl_c_handled():
    """In the block, SIGINT raises KeyboardInterrupt (as Python's own handler does) and is counted in the list
    yielded; the second one prints `interrupted` and exits with 130. Outside the main thread, where handlers
    cannot be set, Python's own stays.

    A KeyboardInterrupt raised while a destructor or a weakref callback runs (TensorFlow's free their graphs
    and resources in them, often) is only printed by Python, and the command would go on to its end as if no
    Ctrl-C had come: that one is raised again as soon as the destructor returns (`sys.unraisablehook`)."""
    interrupted = []
    redelivering = []

    def on_ctrl_c(signum, frame):
        if redelivering:  # the Ctrl-C a destructor swallowed, not a second one
            redelivering.clear()
            raise KeyboardInterrupt
        interrupted.append(signum)
        if len(interrupted) > 1:
            _interrupted()
            os._exit(130)
        raise KeyboardInterrupt

    def on_unraisable(unraisable):
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            if not redelivering:  # `on_ctrl_c` runs again once this hook and the destructor have returned
                redelivering.append(threading.Timer(REDELIVERY_DELAY, _thread.interrupt_main))
                redelivering[0].daemon = True
                redelivering[0].start()
        else:
            previous_hook(unraisable)

    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous, previous_hook = signal.signal(signal.SIGINT, on_ctrl_c), sys.unraisablehook
    sys.unraisablehook = on_unraisable
    try:
        yield interrupted
    finally:
        for timer in redelivering:  # the command ended first: nothing left to stop
            timer.cancel()
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
