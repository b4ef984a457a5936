"""What a compressed variant costs and keeps: file size raw and gzip'd, test accuracy, latency, throughput
(a language model's: validation loss or translation scores, and decoding tokens/s, `language_model_table`).

Every variant is measured the same way, through a `predict(inputs) -> labels` function on the model's own
inputs (images; n-gram features), so a Keras model, a SavedModel and a LiteRT file compare fairly.
"""

import gzip
import statistics
import time
from pathlib import Path

import numpy as np

DECODING_BATCH_SIZES = (1, 64)  # the batches a language model's decoding speed is measured at


def file_sizes(path):
    """`(bytes, gzip'd bytes)` of a file. Zeroed weights shrink only under compression, hence the second."""
    data = Path(path).read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0))


def accuracy(predict, batches):
    """The share of examples whose predicted label equals the true one, over `(inputs, labels)` batches."""
    correct = total = 0
    for inputs, labels in batches:
        correct += int(np.sum(np.asarray(predict(inputs)) == np.asarray(labels)))
        total += len(labels)
    if not total:
        raise ValueError("accuracy over no examples")
    return correct / total


def median_latency_ms(predict, inputs, *, warmup=20, runs=200):
    """The median wall time of `predict(inputs)` in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        predict(inputs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        predict(inputs)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def examples_per_second(predict, inputs, *, warmup=3, runs=20):
    """Examples per second of `predict` on the batch `inputs`, from the median of `runs` timed calls."""
    batch_size = len(next(iter(inputs.values())))
    return batch_size / (median_latency_ms(predict, inputs, warmup=warmup, runs=runs) / 1000)


def markdown_table(title, rows):
    """The rows as a Markdown table, sizes in KB, under a `### title` heading."""
    lines = [f"### {title}", "",
             "| variant | size (KB) | gzip'd (KB) | test accuracy | batch-1 latency (ms) | batch-64 examples/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(
            f"| {row['variant']} | {row['size_bytes'] / 1000:,.1f} | {row['gzip_bytes'] / 1000:,.1f} | "
            f"{row['test_accuracy']:.4f} | {row['latency_ms_batch1']:.3f} | "
            f"{row['examples_per_second_batch64']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def decoding_field(batch_size):
    return f"decoding_tokens_per_second_batch{batch_size}"


def _difference(value, reference, form):
    """`value - reference` signed, as `form` shows it: a difference that rounds to zero shows as +0, not -0."""
    shown = f"{value - reference:+{form}}"
    return "+" + shown[1:] if float(shown) == 0 else shown


# The quality columns of a language model's table: `(heading, row field, format)`.
VALIDATION_LOSS = (("validation loss", "validation_loss", ".4f"),)
TRANSLATION_SCORES = (("BLEU", "bleu", ".2f"), ("ROUGE-1 F1", "rouge1_f1", ".4f"), ("ROUGE-2 F1", "rouge2_f1", ".4f"))


def language_model_table(title, rows, figures=VALIDATION_LOSS):
    """A language model's rows (`variants.export_variants`: a GPT's, a translator's) as a Markdown table, sizes
    in KB, `figures` (`VALIDATION_LOSS`, `TRANSLATION_SCORES`) and decoding speeds against float32's (the first
    row; Keras copies decode with the key/value cache, LiteRT files, "uncached", without), under a `### title`
    heading."""
    reference = rows[0]
    lines = [f"### {title}", "",
             ("| weights | computed in | size (KB) | of float32 | gzip'd (KB) | "
              + "".join(f"{heading} | vs float32 | " for heading, _, _ in figures)
              + "".join(f"decoding tokens/s (batch {size}) | vs float32 | " for size in DECODING_BATCH_SIZES)
              ).rstrip(),
             "| --- | --- |" + " ---: |" * (3 + 2 * len(figures) + 2 * len(DECODING_BATCH_SIZES))]
    for row in rows:
        speeds = [(row[decoding_field(size)], reference[decoding_field(size)]) for size in DECODING_BATCH_SIZES]
        lines.append(
            f"| {row['variant']} | {row['compute_dtype']} | {row['size_bytes'] / 1000:,.1f} | "
            f"{row['size_bytes'] / reference['size_bytes']:.0%} | {row['gzip_bytes'] / 1000:,.1f} | "
            + "".join(f"{row[field]:{form}} | {_difference(row[field], reference[field], form)} | "
                      for _, field, form in figures)
            + "".join(f"{speed:,.0f} | {speed / float32_speed:.2f}x | " for speed, float32_speed in speeds).rstrip())
    return "\n".join(lines) + "\n"
