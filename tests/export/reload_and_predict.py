"""Loads an export in a fresh process and saves what its serving signature returns for some inputs."""

import sys

import numpy as np
import tensorflow as tf

export_path, inputs_path, outputs_path = sys.argv[1:]
serve = tf.saved_model.load(export_path).signatures["serving_default"]
outputs = serve(images=tf.constant(np.load(inputs_path)))
np.savez(outputs_path, **{name: value.numpy() for name, value in outputs.items()})
