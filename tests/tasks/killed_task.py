"""Runs `python -m tasks.<task> ARGS` in this process, SIGKILLing it at `--kill-at POINT`, as a crash, an
out-of-memory kill or a pre-empted machine would. Used by the kill-and-rerun tests of the run lifecycle.

    python -m tests.tasks.killed_task --kill-at export mnist --model convnet ...

POINT: `epoch` (in the middle of the second epoch), `trained` (the last epoch has ended, its record not yet
written), `after-fit` (training is recorded, nothing exported yet), `export` (the SavedModel is half written),
`publish` (the version is published, `metrics.json` not yet).
"""

import os
import signal
import sys
from importlib import import_module

POINTS = ("epoch", "trained", "after-fit", "export", "publish")


def kill():
    os.kill(os.getpid(), signal.SIGKILL)


def killing_after(function):
    def run_then_kill(*args, **kwargs):
        function(*args, **kwargs)
        kill()

    return run_then_kill


def arm(point):
    from keras_apps import lifecycle
    from keras_apps.export import saved_model
    from keras_apps.training import runner
    from tests.training.helpers import InterruptMidEpoch

    if point == "epoch":
        build_callbacks = runner.build_callbacks
        runner.build_callbacks = lambda *args, **kwargs: [*build_callbacks(*args, **kwargs),
                                                          InterruptMidEpoch(1, kill)]
    elif point == "trained":
        runner.FitResult.save = lambda *args, **kwargs: kill()
    elif point == "after-fit":
        lifecycle.Run.finish = lambda *args, **kwargs: kill()
    elif point == "export":
        saved_model.write_saved_model = killing_after(saved_model.write_saved_model)
    else:
        saved_model._publish = killing_after(saved_model._publish)


def main():
    _, flag, point, task, *argv = sys.argv
    assert flag == "--kill-at" and point in POINTS, __doc__
    arm(point)
    from keras_apps import cli

    sys.exit(cli.run(import_module(f"tasks.{task}").main, argv))


if __name__ == "__main__":
    main()
