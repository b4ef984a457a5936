"""A task's command line answers at once: importing a task module, and its `--help`, load no TensorFlow, Keras
or keras-hub; only a command that runs does (`keras_apps.cli.main`, inside the command functions)."""

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPOSITORY

TASKS = ("imdb", "mnist", "gpt", "translate", "speech", "multimodal", "rlhf", "gpt_classifier", "demo")
HEAVY = ("tensorflow", "keras", "keras_hub", "tensorflow_text")

# Run in a fresh interpreter. Each heavy import is refused and recorded with the frame that asked for it, so
# that every task is checked on its own in one process (a module once loaded would hide the next task's import).
CHECK = textwrap.dedent("""
    import contextlib, importlib, io, json, sys, traceback

    heavy, attempts = set(sys.argv[1].split(",")), []

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in heavy:
                asker = [frame for frame in traceback.extract_stack() if "/keras_apps/" in frame.filename
                         or "/tasks/" in frame.filename]
                attempts.append(f"{name} from {asker[-1].filename}:{asker[-1].lineno}" if asker else name)
                raise ImportError(f"{name} is not to be imported here")

    sys.meta_path.insert(0, Refuse())
    failures = {}
    for task in sys.argv[2:]:
        attempts.clear()
        try:
            module = importlib.import_module(f"tasks.{task}")
            with contextlib.redirect_stdout(io.StringIO()):
                module.main(["--help"])
            status = 0
        except SystemExit as exit:
            status = exit.code
        except ImportError:
            status = None
        loaded = [name for name in heavy if name in sys.modules]
        if attempts or loaded or status != 0:
            failures[task] = {"imports": attempts[:1] + loaded, "--help exit status": status}
    print(json.dumps(failures))
""")


def test_importing_a_task_and_its_help_load_no_tensorflow():
    completed = subprocess.run([sys.executable, "-c", CHECK, ",".join(HEAVY), *TASKS], cwd=REPOSITORY,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    failures = json.loads(completed.stdout.splitlines()[-1])
    assert failures == {}, f"tasks that load TensorFlow (or fail) on import or --help: {failures}"


def test_a_ctrl_c_before_the_command_runs_is_one_line_not_a_traceback():
    """A Ctrl-C while a task module was still importing (`python -m tasks.speech ...` in its first half second)
    printed a 20-line traceback."""
    interrupted = subprocess.run([sys.executable, "-c", "import tasks.speech; raise KeyboardInterrupt"],
                                 cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert (interrupted.returncode, interrupted.stderr) == (-2, "interrupted\n")  # killed by SIGINT: 130 in a shell
    failed = subprocess.run([sys.executable, "-c", "import tasks; 1 / 0"], cwd=REPOSITORY, capture_output=True,
                            text=True, timeout=120)
    assert failed.returncode == 1 and "Traceback" in failed.stderr and "ZeroDivisionError" in failed.stderr
