"""One command-line module per task: `python -m tasks.<task> --help`."""

import sys


def _interrupted_before_the_command(kind, value, traceback):
    """A Ctrl-C that no command caught (one in the first half second, while a task module's imports run, before
    `keras_apps.cli.run` takes over) ends in the line the command prints, not a traceback; Python still exits
    with the status of a Ctrl-C."""
    if issubclass(kind, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, traceback)


sys.excepthook = _interrupted_before_the_command
