"""Progress on screen for every phase that takes more than a few seconds, shown as `fit` shows it."""

import sys


def verbosity():
    """Keras's `verbose`: a live bar on a terminal (1), one line when done in a log file (2), where a bar's
    redraws would fill the file."""
    return 1 if sys.stdout.isatty() else 2


def bar(total, unit):
    """A `keras.utils.Progbar` of `total` `unit`s; `.add(n)` as they are done."""
    import keras

    return keras.utils.Progbar(total, unit_name=unit, verbose=verbosity())
