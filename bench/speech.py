"""Spoken-digit benchmarks: the default recipe on FSDD's official split (recordings 0-4 of every speaker and digit
tested), trained on them as recorded or in rooms (`--room-noise`), and once per speaker with that speaker's 500
recordings held out (trained on the other four): a model that learned voices rather than digits shows there."""

import tempfile

from bench.runs import row, run_task
from keras_apps.data.spoken_digits import EXPECTED

RUNS = {"official": [], "room-noise": ["--room-noise"],
        **{f"without-{speaker}": ["--hold-out-speaker", speaker] for speaker in EXPECTED["speakers"]}}
# What `python -m bench`'s smoke-test flags do here: the task trains on the whole split, so only --epochs.
LIMITS = {"--epochs": "N epochs"}


def run(runs, repeats, limits):
    """Runs the chosen benchmarks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for name in runs:
        with tempfile.TemporaryDirectory() as workdir:
            metrics, wall_seconds = run_task("speech", RUNS[name], workdir, limits)
        yield f"speech-{name}", row(" ".join(["python -m tasks.speech", *RUNS[name]]), metrics,
                                    wall_seconds=round(wall_seconds, 1))
