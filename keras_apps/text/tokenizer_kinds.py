"""The tokenizers a language model may read its text with, by name. Light to import: a task's command line
offers them (`keras_apps.text.characters` builds them)."""

TOKENIZERS = ("char", "byte", "wordpiece")
