"""What a compressed variant costs and keeps: file size raw and gzip'd, test accuracy, latency, throughput.

Every variant is measured the same way, through a `predict(inputs) -> labels` function on the model's own
inputs (images; n-gram features), so a Keras model, a SavedModel and a LiteRT file compare fairly.
"""

import gzip
import statistics
import time
from pathlib import Path

import numpy as np


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
