"""The `metrics.json` contract that benchmarks and later tasks read.

Keys: `task`, `model`, `params`, `trainable_params` (what training changed: fewer with LoRA), `epochs`,
`train_seconds`, `train_examples`, `train_examples_per_second`, `train_step_seconds` (the median time of a training
step once compiled, see `TrainingClock`; null when no step ran after the warm-up), `jit_compile` (whether the step
was compiled with XLA, which the runner or Keras may have left out), `peak_memory_mb`, `test` (the task's metrics on
its test split, where it has one), `export` (the export's path or null), `strategy`, `replicas`,
`resumed_from_epoch`, `trained_for` (those figures in words, for summaries and cards), `machine` (the machine's
description and its measured matmul GFLOP/s, `keras_apps.machine.fingerprint`), `time` (where the command's time
went, phase by phase, `keras_apps.timing`), plus anything the task adds under `extra`.
Classifiers add `evaluation` (`keras_apps.evaluate.classification.evaluate_classifier`: confusion matrix, per-class
precision, recall and F1, the reliability curve and expected calibration error).
The language model (`gpt`), which has no test split, adds `validation` (`loss`, `perplexity`),
`train_tokens_per_second` and, fine-tuned from an export, `validation_before_training` (the export's figures). The
translator's `test` holds `bleu`, `rouge1_f1`, `rouge2_f1`, `masked_accuracy` and `loss`; its `extra`, the BLEU
signature, beam size, direction and decoding speed.
"""

import resource
import sys

from keras_apps.machine import fingerprint
from keras_apps.training.strategy import strategy_name


def peak_memory_mb():
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def trained_for(epochs, resumed_from_epoch, train_seconds):
    """"N epochs in S s", saying so when S timed only the epochs after a resume: an interrupted attempt's time is
    not kept, and a summary must not read as if the whole training took S."""
    trained = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    if not resumed_from_epoch:
        return f"{trained} in {train_seconds:,.0f} s"
    if resumed_from_epoch >= epochs:
        return f"{trained}, trained before the command was interrupted and resumed (their time is not kept)"
    return f"{trained}, the last {epochs - resumed_from_epoch} in {train_seconds:,.0f} s after a resume"


def run_metrics(*, task, model_name, fit_result, test_metrics, export_path, strategy, extra=None, evaluation=None):
    """Assembles the `metrics.json` dictionary for one finished run."""
    return {
        "task": task,
        "model": model_name,
        "params": int(fit_result.model.count_params()),
        "trainable_params": fit_result.trainable_params,
        "epochs": fit_result.epochs_completed,
        "resumed_from_epoch": fit_result.initial_epoch,
        "train_seconds": round(fit_result.train_seconds, 3),
        "trained_for": trained_for(fit_result.epochs_completed, fit_result.initial_epoch, fit_result.train_seconds),
        "train_examples": fit_result.train_examples,
        "train_examples_per_second": round(fit_result.train_examples_per_second, 1),
        "train_step_seconds": fit_result.train_step_seconds and round(fit_result.train_step_seconds, 6),
        "jit_compile": bool(fit_result.model.jit_compile),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "strategy": strategy_name(strategy),
        "replicas": strategy.num_replicas_in_sync,
        "machine": fingerprint(speeds=("matmul_gflops",)),
        **({"test": {name: float(value) for name, value in test_metrics.items()}} if test_metrics is not None else {}),
        "export": str(export_path) if export_path else None,
        **({"evaluation": evaluation} if evaluation else {}),
        **({"extra": extra} if extra else {}),
    }
