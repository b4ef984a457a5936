"""nanoGPT (karpathy/nanoGPT, PyTorch) run side by side with our GPT: its own code, its own CPU recipe.

Nothing of nanoGPT is in this repository: its files are read from the checkout the user names
(`python -m bench gpt --nanogpt DIR`) and copied at run time into a scratch folder, where its data preparation
writes what it writes. PyTorch lives in a virtual environment this module makes once (`environment`), apart
from TensorFlow's. The seed: nanoGPT seeds `torch.manual_seed(1337)`; run `s` adds `s`, so seed 0 is
nanoGPT exactly as published. Its loss is then measured as ours is, on every token of the whole validation
split (`nanogpt_loss.py`, run in that environment), where nanoGPT itself estimates it from 20 random batches.
"""

import json
import shutil
import subprocess
import time
import venv
from pathlib import Path

from bench.runs import CACHE
from keras_apps.errors import UserError

ENVIRONMENT = CACHE / "nanogpt-torch"
# What nanoGPT's train.py and data preparation import; torch 2.13.0 is the CPU build on this project's machines.
REQUIREMENTS = ["torch==2.13.0", "numpy", "requests"]
FILES = ["train.py", "model.py", "configurator.py", "config/train_shakespeare_char.py",
         "data/shakespeare_char/prepare.py"]
# nanoGPT's README, "I only have a macbook" (its CPU recipe); our `--recipe nanogpt-cpu` is the same.
CPU_RECIPE = ["config/train_shakespeare_char.py", "--device=cpu", "--compile=False", "--eval_iters=20",
              "--log_interval=1", "--block_size=64", "--batch_size=12", "--n_layer=4", "--n_head=4", "--n_embd=128",
              "--max_iters=2000", "--lr_decay_iters=2000", "--dropout=0.0"]
SMOKE_TEST = ["--max_iters=20", "--lr_decay_iters=20", "--eval_interval=10", "--eval_iters=2", "--warmup_iters=2"]
# Runs nanoGPT's train.py as `python train.py …` does, with the seed moved by `sys.argv[1]`.
SEEDED_TRAIN = """import runpy, sys, torch
offset, seed = int(sys.argv.pop(1)), torch.manual_seed
torch.manual_seed = lambda value: seed(value + offset)
sys.argv[0] = "train.py"
runpy.run_path("train.py", run_name="__main__")
"""


def check_checkout(directory):
    """Refuses, in one line, a folder that is not a nanoGPT checkout."""
    missing = [name for name in FILES if not (Path(directory) / name).is_file()]
    if missing:
        raise UserError(f"--nanogpt {directory} is not a checkout of karpathy/nanoGPT (no {', '.join(missing)}); "
                        f"clone https://github.com/karpathy/nanoGPT and name its folder")


def environment():
    """The Python of the PyTorch environment (`ENVIRONMENT`), made or completed when it lacks `REQUIREMENTS`."""
    python, installed = ENVIRONMENT / "bin" / "python", ENVIRONMENT / "requirements.txt"
    if not python.exists():
        print(f"Making a PyTorch environment for nanoGPT in {ENVIRONMENT}", flush=True)
        venv.create(ENVIRONMENT, with_pip=True, clear=True)
    if not installed.exists() or installed.read_text().split() != REQUIREMENTS:
        completed = subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS])
        if completed.returncode != 0:
            raise UserError(f"could not install {' '.join(REQUIREMENTS)} into {ENVIRONMENT} for nanoGPT (pip exit "
                            f"status {completed.returncode})")
        installed.write_text("\n".join(REQUIREMENTS) + "\n")
    return python


def _run(python, arguments, workdir):
    """Runs `python arguments…` in `workdir`, its output shown; returns its wall time in seconds."""
    print(f"$ {python} {' '.join(arguments)}", flush=True)
    start = time.perf_counter()
    completed = subprocess.run([str(python), *arguments], cwd=workdir)
    if completed.returncode != 0:
        raise UserError(f"nanoGPT's {arguments[0]} failed with exit status {completed.returncode} in {workdir}")
    return time.perf_counter() - start


def train(checkout, text_file, seed, workdir, smoke_test=False):
    """nanoGPT's CPU recipe on `text_file` with `seed`, in `workdir`:
    `{"wall_seconds": its train.py process, "validation_loss": on the whole validation split}`."""
    python, workdir = environment(), Path(workdir)
    for name in FILES:
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(checkout) / name, workdir / name)
    data = workdir / "data" / "shakespeare_char"
    shutil.copy(text_file, data / "input.txt")  # prepare.py reads it there instead of downloading it
    _run(python, ["data/shakespeare_char/prepare.py"], workdir)
    (workdir / "seeded_train.py").write_text(SEEDED_TRAIN)
    wall_seconds = _run(python, ["seeded_train.py", str(seed), *CPU_RECIPE, *(SMOKE_TEST if smoke_test else [])],
                        workdir)
    loss = subprocess.run([str(python), str(Path(__file__).with_name("nanogpt_loss.py")), str(workdir)],
                          capture_output=True, text=True)
    if loss.returncode != 0:
        raise UserError(f"scoring nanoGPT's checkpoint failed: {loss.stderr.strip().splitlines()[-1:]}")
    return {"wall_seconds": wall_seconds, **json.loads(loss.stdout.splitlines()[-1])}  # after GPT()'s own print

