"""LoRA against full fine-tuning: the same start, data and schedule, every weight trained or rank-8 adapters
(`--lora-rank 8`), each run as a user runs it, in a fresh process.

    gpt-lora    the default GPT trained on Tiny Shakespeare (about 13 minutes), then fine-tuned on new text,
                the first million characters of IMDB's training reviews, for 600 steps, each way (about 5
                minutes each); the figure is the loss on the last tenth of that text, the start's beside it
    bert-lora   BERT pre-trained on the reviews and fine-tuned whole (`python -m tasks.imdb --model bert`, about
                50 minutes on a 2-core CPU), then its saved backbone fine-tuned through adapters; the figure is test
                accuracy on the 25,000 test reviews

Each row: trainable parameters (and their share of the model's), training time, the median step, peak memory
of the process, and the figure. The row's command is the LoRA run's; full fine-tuning is the same without
`--lora-rank` (for BERT, the run that pre-trained the backbone: `python -m tasks.imdb --model bert`).
"""

import tempfile
from pathlib import Path

from bench import results
from bench.runs import run_task

RANK = 8
REVIEW_CHARACTERS = 1_000_000
GPT_FINE_TUNING = ["--max-steps", "600", "--eval-interval", "200", "--warmup-steps", "50"]
RUNS = {"gpt-lora": "gpt", "bert-lora": "imdb"}
# A smoke test (`--train-examples` or `--epochs`): a few steps or examples each way, never recorded.
GPT_SMOKE_TEST = ["--max-steps", "20", "--eval-interval", "10", "--eval-batches", "2", "--warmup-steps", "2",
                  "--no-jit-compile", "--sample-tokens", "20"]
BERT_SMOKE_TEST = ["--train-examples", "400", "--test-examples", "200", "--unlabeled-examples", "200",
                   "--epochs", "1", "--pretrain-epochs", "1"]


def write_reviews(path, characters=REVIEW_CHARACTERS):
    """The first `characters` of IMDB's training reviews, one paragraph each, as the GPT's new text."""
    from keras_apps.data import imdb

    text = "\n\n".join(imdb.load().train.texts)[:characters]
    path.write_text(text, encoding="utf-8")
    return path


def method_row(method, metrics, wall_seconds, figure):
    """One way of fine-tuning, from its run's `metrics.json`."""
    return {
        "method": method, "trainable_params": metrics["trainable_params"], "params": metrics["params"],
        "train_seconds": metrics["train_seconds"], "train_step_seconds": metrics["train_step_seconds"],
        "wall_seconds": round(wall_seconds, 1), "peak_memory_mb": metrics["peak_memory_mb"], **figure,
    }


def bench_gpt(limits, exports=None):
    """The default GPT (trained here, or the latest export in `exports/gpt`), then fine-tuned on reviews whole and
    through adapters."""
    from keras_apps.export.saved_model import resolve_task_export

    schedule = GPT_SMOKE_TEST if limits else GPT_FINE_TUNING
    with tempfile.TemporaryDirectory() as workdir:
        workdir = Path(workdir)
        if exports is None:
            base = run_task("gpt", [], workdir / "base", GPT_SMOKE_TEST if limits else [])[0]["export"]
        else:
            base = resolve_task_export(Path(exports) / "gpt", "gpt")
        text = write_reviews(workdir / "reviews.txt", 20_000 if limits else REVIEW_CHARACTERS)
        tuning = ["--text-file", str(text), "--init-from", str(base), *schedule]
        methods = []
        for method, flags in (("full", []), (f"LoRA rank {RANK}", ["--lora-rank", str(RANK)])):
            metrics, wall_seconds = run_task("gpt", [*tuning, *flags], workdir / method.replace(" ", "-"), [])
            methods.append(method_row(method, metrics, wall_seconds, {
                "validation_loss": metrics["validation"]["loss"],
                "validation_loss_before": metrics["validation_before_training"]["loss"]}))
    return {"command": f"python -m tasks.gpt --text-file reviews.txt --init-from <default-gpt-export> "
                       f"{' '.join(GPT_FINE_TUNING)} --lora-rank {RANK}",
            "title": f"GPT fine-tuned on {REVIEW_CHARACTERS:,} characters of IMDB reviews, from the default "
                     "Tiny Shakespeare GPT", "figure": "validation loss", "machine": results.machine(),
            "lora": methods}


def bench_bert(limits):
    """BERT pre-trained and fine-tuned whole, then its backbone fine-tuned through adapters."""
    flags = BERT_SMOKE_TEST if limits else []
    with tempfile.TemporaryDirectory() as workdir:
        workdir = Path(workdir)
        full, full_wall = run_task("imdb", ["--model", "bert", *flags], workdir / "full", [])
        backbone = workdir / "full" / "run" / "backbone"
        lora, lora_wall = run_task("imdb", ["--model", "bert", "--pretrained-backbone", str(backbone),
                                            "--lora-rank", str(RANK), *flags], workdir / "lora", [])
    methods = [method_row(method, metrics, wall, {"test_accuracy": metrics["test"]["accuracy"]})
               for method, metrics, wall in (("full", full, full_wall), (f"LoRA rank {RANK}", lora, lora_wall))]
    return {"command": f"python -m tasks.imdb --model bert --pretrained-backbone <its-backbone> --lora-rank {RANK}",
            "title": "BERT fine-tuned on IMDB from its backbone pre-trained on the reviews",
            "figure": "test accuracy", "machine": results.machine(), "lora": methods}


def run(runs, limits, exports=None):
    """Yields `(name, result)` for each of `runs` (`exports`: where gpt-lora finds its start, `bench_gpt`)."""
    for name in runs:
        yield name, bench_gpt(limits, exports) if RUNS[name] == "gpt" else bench_bert(limits)
