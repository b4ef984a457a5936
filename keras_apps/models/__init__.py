"""Functional model builders: each returns a `keras.Model`, reads no files, flags or globals.

Import a builder from its module (`from keras_apps.models.gpt import build_gpt`); the package imports none of
them. `gpt` and `translator` import Keras inside their builders, so a command line reads `GPTConfig` and
`TranslatorConfig` without loading TensorFlow.
"""
