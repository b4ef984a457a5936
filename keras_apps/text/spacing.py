"""Text joined back from word tokens with the spaces a writer would use.

WordPiece detokenizes by putting one space between whole words, punctuation included ("it ' s 10 / 10 ,
honestly !"); these rules take out the spaces a writer would not type. They are RE2 patterns, so they run
inside a serving graph.
"""

import tensorflow as tf

# (RE2 pattern, replacement) applied in order.
_SPACING_RULES = (
    (r"\s+([.,!?;:%)\]}»…])", r"\1"),  # no space before closing punctuation
    (r"([¿¡(\[{«])\s+", r"\1"),  # nor after opening punctuation
    (r"(\pL) ([-'’]) (\pL)", r"\1\2\3"),  # e-mail, don't, l’homme
    (r"(\d)([.,:]) (\d)", r"\1\2\3"),  # 3.5, 1,000, 10:30
    (r"(\d) / (\d)", r"\1/\2"),  # 7/10
)


def respace(texts):
    """`texts` (`tf.string`, any shape) with the spaces around punctuation a writer would not type removed."""
    for pattern, replacement in _SPACING_RULES:
        texts = tf.strings.regex_replace(texts, pattern, replacement)
    return texts
