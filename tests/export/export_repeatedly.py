"""Exports a tiny model `COUNT` times into `ROOT`, as run `RUN` and its reruns would: one writer of several
that share an export folder, for the concurrent-publishing test.

    python -m tests.export.export_repeatedly ROOT RUN COUNT
"""

import sys

import keras
import tensorflow as tf

from keras_apps.export.saved_model import export_model
from keras_apps.inference.serving import classifier_endpoint


def main():
    root, run, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(inputs))
    endpoints = {"serving_default": classifier_endpoint(model, tf.TensorSpec([None, 3], tf.float32, name="x"))}
    for attempt in range(count):
        print(export_model(model, root, endpoints, metadata={"task": "tiny"}, run_id=f"{run}-{attempt}"), flush=True)


if __name__ == "__main__":
    main()
