"""Loads a text export in a fresh process and saves what its serving signature returns for some texts."""

import json
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401 - registers the tokenizer's ops, which the serving graph uses

export_path, texts_path, outputs_path = sys.argv[1:]
serve = tf.saved_model.load(export_path).signatures["serving_default"]
texts = [text.encode("latin-1") for text in json.loads(open(texts_path).read())]  # bytes kept as they were
outputs = serve(texts=tf.constant(texts, tf.string))
np.savez(outputs_path, **{name: value.numpy() for name, value in outputs.items()})
