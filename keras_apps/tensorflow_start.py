"""Loading TensorFlow with its log level applied to the lines it prints while its libraries load.

TensorFlow 2.21 logs through absl, which writes everything logged before `absl::InitializeLog()` to stderr
whatever the level: three lines per library, twice (a notice about that, oneDNN's and CUDA's), before every
command's first line of output or its one-line error (abseil/abseil-cpp#1957). `import_tensorflow` loads
TensorFlow with stderr captured and writes back every captured line except absl log lines below
`TF_CPP_MIN_LOG_LEVEL` (the level `keras_apps.cli` sets, 2: errors only), as TensorFlow does once absl is set up.

It also looks for GPUs then, which on a machine without a GPU driver logs an error (`failed call to cuInit`)
after the load's own "Could not find cuda drivers on your machine": a CPU user's normal case, not an error, so
that line is dropped when the note before it says there is no driver. With a driver, a failing cuInit shows.

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


_LITERT_NOTE = re.compile(r"INFO: |fully_quantize: ")
_NO_DRIVER = "Could not find cuda drivers on your machine"
_CUINIT_FAILED = "failed call to cuInit"


def shown_lines(lines, minimum_level):
    """The lines TensorFlow printed while loading that are `shown`, less cuInit's error where no driver was found."""
    no_driver = any(_NO_DRIVER in line for line in lines)
    return [line for line in lines
            if shown(line, minimum_level) and not (no_driver and _CUINIT_FAILED in line)]


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
    """Imports TensorFlow (once a process) and lets it find its devices, without the log lines its libraries print
    below the log level (`shown_lines`)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    minimum_level = _minimum_level()
    with _stderr_filtered(lambda lines: shown_lines(lines, minimum_level)):
        import tensorflow

        tensorflow.config.list_physical_devices()
    return tensorflow
