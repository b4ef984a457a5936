"""Raw strings made safe to tokenize: what the serving graph does before any model sees a review.

A SavedModel that takes `tf.string` gets whatever a client sends: empty strings, bytes that are not
UTF-8, a megabyte of text. `sanitize` bounds the work, repairs the encoding and removes the HTML line
breaks the training reviews had removed too, so every input gets an answer.
"""

# A run of HTML line breaks (`<br />`, `<BR>`, ...) with the whitespace around them; RE2 and Python `re` both read
# it. Written as one break and then more, which Python's `re` matches twice as fast as one repeated group.
LINE_BREAKS = r"(?i)\s*<br\s*/?>(?:\s*<br\s*/?>)*\s*"
# Far beyond any review the models read (their inputs stop at a few hundred tokens, about 2 KB of text).
MAX_BYTES = 20_000


def sanitize(texts, max_bytes=MAX_BYTES):
    """Cuts each string to `max_bytes`, replaces invalid UTF-8, turns line breaks into spaces, strips."""
    import tensorflow as tf  # in here: the IMDB reader, which task command lines import, shares LINE_BREAKS

    texts = tf.strings.substr(texts, 0, max_bytes)  # Byte units: may split a character; repaired next.
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    texts = tf.strings.regex_replace(texts, LINE_BREAKS, " ")
    return tf.strings.strip(texts)
