"""Translation benchmark: `python -m tasks.translate` (English→Spanish, the default) run as a user runs it,
scored on the whole test split with sacreBLEU and ROUGE-1/2 F1, with the wall time of the whole command
(start-up, vocabularies, training, test translation, the export) and the decoding speed with and without
the key/value cache that the run measured.

Reference points (issue 4): the keras.io KerasHub English→Spanish example reports ROUGE-1 F1 0.579 and
ROUGE-2 F1 0.381 after 10 epochs, scored on 30 test sentences.
"""

import tempfile

from bench import results
from bench.runs import run_task

RUNS = {"default": []}
KERAS_IO_ROUGE = {"rouge1_f1": 0.579, "rouge2_f1": 0.381}
# A smoke test checks the benchmark, not the model: a small one (its decoding speed is measured like any other).
SMOKE_MODEL = ["--num-layers", "1", "--hidden-dim", "64", "--intermediate-dim", "128",
               "--vocabulary-size", "1000"]
# What `python -m bench`'s smoke-test flags do here.
LIMITS = {"--train-examples": "N training pairs, a small model", "--epochs": "N epochs, a small model"}


def task_limits(limits):
    """`python -m bench`'s smoke-test flags as the task takes them: it calls a training slice `--train-pairs`."""
    return ["--train-pairs" if flag == "--train-examples" else flag for flag in limits]


def bench_run(name, limits):
    if limits:  # a smoke test: a small model scores a few sentences
        limits = [*task_limits(limits), *SMOKE_MODEL, "--test-sentences", "20"]
    with tempfile.TemporaryDirectory() as workdir:
        metrics, wall_seconds = run_task("translate", RUNS[name], workdir, limits)
    return translate_row(name, metrics, wall_seconds)


def translate_row(name, metrics, wall_seconds):
    """A results row for `python -m tasks.translate` with run `name`'s arguments, from the run's `metrics.json`."""
    test, extra = metrics["test"], metrics["extra"]
    decoding = {row["batch_size"]: row for row in extra["decoding"]["batches"]}
    return {
        "command": " ".join(["python -m tasks.translate", *RUNS[name]]), "model": metrics["model"],
        "direction": extra["direction"], "beam_size": extra["beam_size"], "params": metrics["params"],
        "epochs": metrics["epochs"], "test_sentences": extra["test_sentences"], "bleu": test["bleu"],
        "bleu_signature": extra["bleu_signature"], "rouge1_f1": test["rouge1_f1"], "rouge2_f1": test["rouge2_f1"],
        "masked_accuracy": test["masked_accuracy"], "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall_seconds, 1), "test_translate_seconds": extra["test_translate_seconds"],
        "decoding_tokens": extra["decoding"]["tokens"],
        "decoding": {str(size): {key: round(value, 2) for key, value in row.items() if key != "batch_size"}
                     for size, row in decoding.items()},
        "keras_io_rouge": KERAS_IO_ROUGE, "peak_memory_mb": metrics["peak_memory_mb"], "machine": results.machine(),
    }


def run(runs, repeats, limits):
    """Runs the chosen benchmarks; yields `(name, row)` as each ends (`repeats` does not apply here)."""
    for name in runs:
        yield f"translate-{name}", bench_run(name, limits)
