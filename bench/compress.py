"""Compression benchmarks: a task's model trained and exported as a user does, then
`python -m tasks.<task> compress` on the whole test set (GPT: the whole validation split); every variant's row
is recorded.

    mnist              the ResNet: Keras int8, LiteRT, pruning, distillation (about 25 minutes on a 2-core CPU:
                       13 of training; pruning, distillation with three seeds)
    imdb               the default n-gram network: Keras int8 and LiteRT (about two minutes)
    imdb-transformer   the Transformer, the same variants (about 25 minutes, 18 of training)
    imdb-bert          BERT pre-trained on the reviews and fine-tuned, the same variants (about an hour, 50
                       minutes of training)
    gpt                the default GPT: bfloat16, Keras int8 and int4, GPTQ, AWQ, each with its decoding speed
                       at batch 1 and 64 (about 25 minutes, 13 of training)
    translate          the translator: bfloat16, Keras int8 and int4, scored on the 10,444 test sentences, each
                       with its decoding speed at batch 1 and 64 (about 80 minutes, 40 of training)
    gpt-lora, bert-lora   fine-tuning through LoRA adapters against training every weight (`bench.lora`)

With `--exports DIR`, each run compresses the task's latest export in `DIR/<task>` instead of training one
(its row has no training time; an export of another model or recipe than the run's is refused); gpt-lora
fine-tunes `DIR/gpt`'s, which must be the default GPT; bert-lora, which pre-trains its own BERT, takes none.
"""

import json
import tempfile
import time
from pathlib import Path

import tasks.gpt
import tasks.imdb
import tasks.mnist
import tasks.translate
from bench import gpt, lora, results, translate
from bench.runs import python, run_task
from keras_apps.data.text_corpus import TINY_SHAKESPEARE
from keras_apps.data.translation_pairs import DIRECTIONS
from keras_apps.errors import UserError

# Each run: the task, and the flags of its training command.
RUNS = {"mnist": ("mnist", []), "imdb": ("imdb", ["--model", "nb-bow"]),
        "imdb-transformer": ("imdb", ["--model", "transformer"]), "imdb-bert": ("imdb", ["--model", "bert"]),
        "gpt": ("gpt", []), "translate": ("translate", [])}
# What a task's run trains, as its export records it (export.json): `(flag, where export.json records it, what the
# task trains where the run's flags name none)`. A GPT of Tiny Shakespeare's characters from scratch, a translator
# from English to Spanish.
TRAINED = {"mnist": [("--model", "model", tasks.mnist.DEFAULT_MODEL)],
           "imdb": [("--model", "model", tasks.imdb.DEFAULT_MODEL)],
           "gpt": [("--recipe", "recipe", tasks.gpt.DEFAULT_RECIPE), ("--tokenizer", "tokenizer", "char"),
                   ("--text-file", "text/file", TINY_SHAKESPEARE.name), ("--init-from", "init_from/init_from", None)],
           "translate": [("--recipe", "recipe", tasks.translate.DEFAULT_RECIPE),
                         ("--direction", "direction", DIRECTIONS[0])]}
# A smoke test (`--train-examples`): tiny training and fine-tuning, one student, on a slice of the test set.
SMOKE_TEST = {
    "mnist": ["--train-examples", "512", "--test-examples", "1000", "--prune-epochs", "1", "--distill-seeds", "1",
              "--student-epochs", "1"],
    "imdb": ["--test-examples", "1000"],
    "gpt": ["--decoding-tokens", "8", "--calibration-windows", "4"],
    "translate": ["--test-sentences", "64"],
}
# What `python -m bench`'s smoke-test flags do here.
LIMITS = {"--train-examples": "the first N training examples or pairs (gpt, imdb-bert, gpt-lora, bert-lora: a fixed "
                             "short run, N unused)",
          "--epochs": "N epochs (gpt, imdb-bert, gpt-lora, bert-lora: a fixed short run, N unused)"}


def bench_task(task, training, limits, exports=None):
    """Trains the task's model with the `training` flags (or takes the latest export in `exports/<task>`),
    compresses the export, returns the result with every variant's row."""
    if limits and task == "gpt":
        limits = gpt.SMOKE_TEST  # a GPT counts steps, not examples or epochs
    if task == "translate":
        limits = translate.task_limits(limits)
    with tempfile.TemporaryDirectory() as workdir:
        if exports is None:
            metrics, train_wall_seconds = run_task(task, training, workdir, limits)
            export, model = metrics["export"], metrics["model"]
            command = " ".join(["python -m tasks." + task, *training]) + f" && python -m tasks.{task} compress"
        else:
            export, model = existing_export(exports, task, training)
            train_wall_seconds, command = None, f"python -m tasks.{task} compress --export-dir <export>"
        report = Path(workdir) / "compress"
        start = time.perf_counter()
        python(["-m", f"tasks.{task}", "compress", "--export-dir", str(export), "--run-dir", str(report),
                *(SMOKE_TEST.get(task, []) if limits else [])])
        compress_wall_seconds = time.perf_counter() - start
        variants = json.loads((report / "compression.json").read_text())
        title = (report / "compression.md").read_text().splitlines()[0].removeprefix("### ")
    return {
        "command": command,
        "task": task,
        "model": model,
        "title": f"{title}, {model}",
        "train_wall_seconds": train_wall_seconds and round(train_wall_seconds, 1),
        "compress_wall_seconds": round(compress_wall_seconds, 1),
        "machine": results.machine(),
        "variants": variants,
    }


def existing_export(exports, task, training=(), use="compress"):
    """`(version path, model or recipe name)` of the latest export of `task` in `exports/<task>`, which must be
    of the model or recipe the run's `training` flags train (the task's default where they name none), and no
    compressed copy (which the run would `use` as the original): a row never holds another model's figures under
    the run's name and title."""
    from keras_apps.export.saved_model import check_not_a_copy, export_metadata, resolve_task_export

    command = " ".join([f"python -m tasks.{task}", *training, "--export-dir", str(Path(exports) / task)])
    try:
        path = resolve_task_export(Path(exports) / task, task)
        metadata = export_metadata(path)
    except UserError as exc:
        raise UserError(f"--exports: {exc}; export one with `{command}`") from None
    check_not_a_copy(path, use)
    for flag, key, trained in TRAINED[task]:
        trained = training[training.index(flag) + 1] if flag in training else trained
        recorded = metadata
        for part in key.split("/"):
            recorded = recorded.get(part) if isinstance(recorded, dict) else None
        if recorded != trained:
            raise UserError(f"{path} is an export of {flag} {recorded or 'none'}, not {trained or 'none'}: export one "
                            f"with `{command}`")
    return path, metadata.get(TRAINED[task][0][1])


def check_exports(runs, exports):
    """Checks the export each of `runs` takes from `exports` before the first run starts, so a missing one fails
    in seconds rather than after the runs before it. bert-lora pre-trains its own BERT: it takes no export, and
    is refused rather than quietly run for an hour."""
    for name in runs:
        if name in lora.RUNS:
            if lora.RUNS[name] != "gpt":
                raise UserError(f"{name} pre-trains the BERT it fine-tunes and takes no export: run it without "
                                "--exports, and name the runs that take one in --runs")
            existing_export(exports, "gpt", use="fine-tune")  # the default GPT, which gpt-lora's title names
        else:
            existing_export(exports, *RUNS[name])


def run(runs, repeats, limits, exports=None):
    """Yields `(name, result)` for each run in `runs` (`repeats` is unused: seeds are the compress flag's); with
    `exports`, each compresses the task's latest export there instead of training one."""
    if exports is not None:
        check_exports(runs, exports)
    for name in runs:
        if name in lora.RUNS:
            yield from lora.run([name], limits, exports)
        else:
            task, training = RUNS[name]
            # Pre-training counts its own reviews and epochs; the runs after it keep theirs.
            run_limits = lora.BERT_SMOKE_TEST if limits and name == "imdb-bert" else limits
            yield f"compress-{name}", bench_task(task, training, run_limits, exports)
