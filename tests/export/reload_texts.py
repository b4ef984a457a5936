"""Loads a text export in a fresh process and saves what its serving signature returns for some texts."""

import json
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401 - registers the tokenizer's ops, which the serving graph uses

export_path, texts_path, outputs_path = sys.argv[1:]
signatures = tf.saved_model.load(export_path).signatures
texts = tf.constant([text.encode("latin-1") for text in json.loads(open(texts_path).read())])  # bytes as they were
outputs = {name: value.numpy() for name, value in signatures["serving_default"](texts=texts).items()}
if "encode" in signatures:  # The same through the export's two halves: the text encoding, then the network.
    inputs = signatures["encode"](texts=texts)["inputs"]
    outputs["two_step_probability"] = signatures["score"](inputs=inputs)["probability"].numpy()
np.savez(outputs_path, **outputs)
