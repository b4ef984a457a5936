"""Loads a GPT export in a fresh process and prints what its `generate` signature returns for a prompt."""

import sys

import tensorflow as tf

export_path, prompt, max_new_tokens, temperature, seed = sys.argv[1:]
generate = tf.saved_model.load(export_path).signatures["generate"]
output = generate(prompt=tf.constant(prompt), max_new_tokens=tf.constant(int(max_new_tokens)),
                  temperature=tf.constant(float(temperature)), seed=tf.constant(int(seed)))
sys.stdout.buffer.write(output["text"].numpy())
