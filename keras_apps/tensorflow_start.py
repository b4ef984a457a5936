"""Loading TensorFlow, Keras and keras-hub quietly (the log level applied to what they print while they load) and
quickly (without the optional imports no command uses).

TensorFlow 2.21 logs through absl, which writes everything logged before `absl::InitializeLog()` to stderr
whatever the level: three lines per library, twice (a notice about that, oneDNN's and CUDA's), before every
command's first line of output or its one-line error (abseil/abseil-cpp#1957). `import_tensorflow` loads
TensorFlow with stderr captured and writes back every captured line except absl log lines below
`TF_CPP_MIN_LOG_LEVEL` (the level `keras_apps.cli` sets, 2: errors only), as TensorFlow does once absl is set up.

It also looks for GPUs then, which on a machine without a GPU driver logs an error (`failed call to cuInit`)
after the load's own "Could not find cuda drivers on your machine": a CPU user's normal case, not an error, so
that line is dropped when the note before it says there is no driver. With a driver, a failing cuInit shows.

Keras and keras-hub, loaded here too, import what no command uses from them as they load, each in a guarded
`import`: scikit-learn (Keras's scikit-learn wrappers), pandas (pandas frames given to `fit`), matplotlib's pyplot
(`keras.visualization`) and rouge-score, with NLTK under it (keras-hub's ROUGE metrics): 1.9 s of every command's
start-up. They are hidden while the two load (which then load without those features) and import as usual
afterwards, for LIME, SHAP, the reports' charts and the translator's ROUGE.

The first transpose of int64 values in a process (keras-hub's packers do them, so every BERT and translator
command) logs, as an error, that "oneDNN supports DT_INT64 only on platforms with AVX-512", on every CPU, AVX-512
or not: the transpose runs in Eigen instead, as it should. A notice, not an error; TensorFlow logs it once, so
one such transpose is run while the load is filtered (in a graph session of its own, 0.05 s: an eager op would
fix the devices before a command sets its strategy's), where it is dropped at a log level above info.

LiteRT's converter and interpreter print their notes without absl's header ("INFO: Created TensorFlow Lite
XNNPACK delegate for CPU.", the quantizer's "fully_quantize: 0, ..."): `litert_notes_dropped` drops them at a log
level above info, as the level says.
"""

import contextlib
import os
import re
import sys
import tempfile

# absl's line header: severity, date, time, thread, file:line] ("I0000 00:00:1796538744.396592  5187 port.cc:153] ").
_HEADER = re.compile(r"([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_PRE_INITIALISATION_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def shown(line, minimum_level):
    """Whether a line TensorFlow printed while loading is shown at `TF_CPP_MIN_LOG_LEVEL` `minimum_level`."""
    if line.rstrip("\n") == _PRE_INITIALISATION_NOTICE:
        return minimum_level <= _SEVERITY["W"]
    header = _HEADER.match(line)
    return header is None or _SEVERITY[header.group(1)] >= minimum_level


UNUSED_OPTIONAL_IMPORTS = ("sklearn", "pandas", "matplotlib.pyplot", "rouge_score")
_LITERT_NOTE = re.compile(r"INFO: |fully_quantize: ")
_INT64_NOTICE = "oneDNN supports DT_INT64 only on platforms with AVX-512"
_NO_DRIVER = "Could not find cuda drivers on your machine"
_CUINIT_FAILED = "failed call to cuInit"


def shown_lines(lines, minimum_level):
    """The lines TensorFlow printed while loading that are `shown`, less cuInit's error where no driver was found
    and, above the info level, the int64 notice."""
    no_driver = any(_NO_DRIVER in line for line in lines)
    return [line for line in lines
            if shown(line, minimum_level) and not (no_driver and _CUINIT_FAILED in line)
            and not (minimum_level > 0 and _INT64_NOTICE in line)]


def _minimum_level():
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


@contextlib.contextmanager
def litert_notes_dropped():
    """LiteRT's own notes, written to stderr in the block, dropped at a `TF_CPP_MIN_LOG_LEVEL` above 0 (info);
    every other line is kept."""
    minimum_level = _minimum_level()
    with _stderr_filtered(lambda lines: [line for line in lines
                                         if minimum_level == 0 or not _LITERT_NOTE.match(line)]):
        yield


@contextlib.contextmanager
def _stderr_filtered(kept):
    """Captures what is written to file descriptor 2 (C++ and Python alike) in the block, then writes back the
    lines `kept(lines)` returns, also when the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(kept(lines)))
            sys.stderr.flush()


def import_tensorflow():
    """Imports TensorFlow, Keras and keras-hub (once a process) and lets TensorFlow find its devices, without the log
    lines its libraries print below the log level (`shown_lines`) nor the optional imports `UNUSED_OPTIONAL_IMPORTS`."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    minimum_level = _minimum_level()
    with _stderr_filtered(lambda lines: shown_lines(lines, minimum_level)), _hidden(UNUSED_OPTIONAL_IMPORTS):
        import keras  # noqa: F401 - loaded here, without the optional imports
        import keras_hub  # noqa: F401
        import tensorflow

        tensorflow.config.list_physical_devices()
        _transpose_int64_once(tensorflow)
    return tensorflow


def _transpose_int64_once(tensorflow):
    """Runs a transpose of int64 values in a graph session of its own, which leaves the eager context's devices
    unset: TensorFlow logs its int64 notice there, once a process."""
    with tensorflow.Graph().as_default() as graph:
        transposed = tensorflow.transpose(tensorflow.zeros((1, 1), tensorflow.int64))
        with tensorflow.compat.v1.Session(graph=graph) as session:
            session.run(transposed)


@contextlib.contextmanager
def _hidden(modules):
    """In the block, `import` of each of `modules` not yet loaded raises ImportError (Python's meaning of a None
    entry in `sys.modules`); afterwards they import as usual."""
    hidden = [name for name in modules if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, "loaded") is None:
                del sys.modules[name]
