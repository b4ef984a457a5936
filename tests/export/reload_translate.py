"""Loads a translation export in a fresh process and prints the translation of each argument, one per line."""

import sys

import tensorflow as tf
import tensorflow_text  # noqa: F401 - registers the tokenizer's ops

export_path, *sentences = sys.argv[1:]
translate = tf.saved_model.load(export_path).signatures["translate"]
for translation in translate(sentences=tf.constant(sentences))["translations"].numpy():
    sys.stdout.buffer.write(translation + b"\n")
