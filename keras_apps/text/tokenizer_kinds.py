"""The tokenizers a language model may read its text with, by name. Light to import: a task's command line
offers them (`keras_apps.text.characters` builds them)."""

TOKENIZERS = ("char", "byte", "wordpiece")


def count_before_learning(text, kind):
    """The tokens `kind` makes of `text`, where that is known before any vocabulary is learned: one per character
    (`char`, an unknown one included) or per UTF-8 byte (`byte`); `None` for `wordpiece`."""
    return {"char": len(text), "byte": len(text.encode("utf-8"))}.get(kind)
