"""tf.data pipelines without autotuning, around TensorFlow 2.21's late end of an iterator.

With autotuning on (tf.data's default) every iterator runs a thread that re-tunes the pipeline at intervals
growing to a minute, and destroying the iterator waits for that thread, which is not always woken: it sleeps
out its interval. Keras destroys its iterator at the end of every `fit`, `evaluate` and `predict`, so such a
call could return up to a minute after its last batch (measured on the GPT: 26 s late in 2 of 6 short runs,
about 50 s in 1 seed of 3 of the benchmark; bench/NOTES.md). Without autotuning there is no such thread, and
a `tf.data.AUTOTUNE` setting keeps its starting value instead of being re-tuned: the GPT's and the MNIST
ResNet's steps measured the same either way.
"""


def without_autotune(dataset):
    """`dataset` with tf.data's autotuning thread off (see the module's docstring)."""
    import tensorflow as tf  # in here: the readers that call this are imported by task command lines

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
