"""tf.data pipelines without autotuning, around TensorFlow 2.21's late end of an iterator.

With autotuning on (tf.data's default) every iterator runs a thread that re-tunes the pipeline at intervals
growing to a minute, and destroying the iterator waits for that thread, which is not always woken: it sleeps
out its interval. Keras destroys its iterator at the end of every `fit`, `evaluate` and `predict`, so such a
call could return up to a minute after its last batch (measured: 13-55 s after the GPT's training, in two runs
of six; bench/NOTES.md). Without autotuning there is no such thread; a `tf.data.AUTOTUNE` setting keeps its starting
value (for a parallel map, one call per core), which is what tuning chose on this project's 2-core machines.
"""

import tensorflow as tf


def without_autotune(dataset):
    """`dataset` with tf.data's autotuning thread off (see the module's docstring)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
