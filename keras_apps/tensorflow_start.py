"""Loading TensorFlow with its log level applied to the lines it prints while its libraries load.

TensorFlow 2.21 logs through absl, which writes everything logged before `absl::InitializeLog()` to stderr
whatever the level: three lines per library, twice (a notice about that, oneDNN's and CUDA's), before every
command's first line of output or its one-line error (abseil/abseil-cpp#1957). `import_tensorflow` loads
TensorFlow with stderr captured and writes back every captured line except absl log lines below
`TF_CPP_MIN_LOG_LEVEL` (the level `keras_apps.cli` sets, 2: errors only), as TensorFlow does once absl is set up.
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


def _minimum_level():
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


@contextlib.contextmanager
def _stderr_filtered(minimum_level):
    """Captures what is written to file descriptor 2 (C++ and Python alike) in the block, then writes back the
    lines `shown` at `minimum_level`, also when the block raises."""
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
            sys.stderr.write("".join(line for line in lines if shown(line, minimum_level)))
            sys.stderr.flush()


def import_tensorflow():
    """Imports TensorFlow (once a process), without the log lines its libraries print below the log level."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with _stderr_filtered(_minimum_level()):
        import tensorflow
    return tensorflow
