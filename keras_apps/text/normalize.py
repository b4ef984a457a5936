"""Raw strings made safe to tokenize: what the serving graph does before any model sees a review.

A SavedModel that takes `tf.string` gets whatever a client sends: empty strings, bytes that are not
UTF-8, a megabyte of text. `sanitize` bounds the work, repairs the encoding and removes the HTML line
breaks the training reviews had removed too, so every input gets an answer; and it decodes HTML's escapes and
writes typographic punctuation as the training texts do (`plain_text`), so that a review or a sentence typed on a
phone or pasted from a web page reads as the same one typed on a keyboard.
"""

import html.entities
import re

# The characters word processors, phones and web pages put in place of ASCII punctuation (curly quotes, the
# accents and primes typed as apostrophes, the ellipsis), under the ASCII the training texts write: IMDB's reviews
# and Tatoeba's sentences have "'" (in 22,331 of IMDB's 25,000 training reviews; "’" in 13), so their models know
# "don't" and not "don’t", which nb-bow's vectorizer (it strips ASCII punctuation only) and WordPiece vocabularies
# read as other, unknown words. Every other space (Unicode's space separators: no-break, thin, ideographic, ...;
# the line and paragraph separators and U+0085, cp1252's ellipsis, in 1,358 IMDB reviews; the ASCII controls Python
# counts as whitespace; NUL, where the tokenizers' C code ends a text, so that a review after one was read as
# empty) is a space, where the graph's tokenizers split only at some and Python's `split` at all.
# Invisible characters (soft hyphen, zero-width space, word joiner, a byte-order mark inside a text) are nothing.
TYPOGRAPHIC_FORMS = {
    "'": "‘’‚‛′´`", '"': "“”„‟″", "...": "…",
    " ": "\x00\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
         "\u2028\u2029\u202f\u205f\u3000",
    "": "\xad\u200b\u2060\ufeff",
}
_FOLDS = [(form, plain) for plain, forms in TYPOGRAPHIC_FORMS.items() for form in forms]
# HTML's escapes of the characters a text holds, as a review or a sentence copied from a page's source (or a
# scraper that did not decode them) has them: `don&#39;t` was another word than `don't`, `don&rsquo;t` too (IMDB's
# reviews hold 3 of these, `&#8230;` and `&#8217;`). Every spelling of each is decoded: HTML5's names (`&rsquo;`,
# `&CloseCurlyQuote;`), decimal (`&#8217;`, `&#039;`) and hexadecimal (`&#x2019;`); a typographic form's, straight
# to its ASCII. `&amp;` is decoded last, once: "&amp;lt;" is the text "&lt;". Other characters' escapes (`&#233;`)
# are rare and left as they are, in training and serving alike (the graph's regular expressions cannot compute one).
def _escapes_of(characters):
    """A regular expression (Python's and RE2's) of every HTML escape of each of `characters`."""
    names = sorted(name[:-1] for name, character in html.entities.html5.items()
                   if character in characters and name.endswith(";"))
    numbers = "|".join(str(ord(character)) for character in characters)
    hexadecimal = "|".join(f"{ord(character):x}" for character in characters)
    return f"&(?:#0*(?:{numbers})|#[xX]0*(?i:{hexadecimal}){''.join(f'|{name}' for name in names)});"


HTML_ESCAPES = [(_escapes_of(characters), plain) for characters, plain in (
    ("<", "<"), (">", ">"), ('"' + TYPOGRAPHIC_FORMS['"'], '"'), ("'" + TYPOGRAPHIC_FORMS["'"], "'"),
    (TYPOGRAPHIC_FORMS["..."], "..."), (TYPOGRAPHIC_FORMS[" "], " "), (TYPOGRAPHIC_FORMS[""], ""), ("&", "&"))]
_HTML_ESCAPES = [(re.compile(pattern), plain) for pattern, plain in HTML_ESCAPES]

# A run of HTML line breaks (`<br />`, `<BR>`, ...) with the whitespace around them; RE2 and Python `re` both read
# it. Written as one break and then more, which Python's `re` matches twice as fast as one repeated group.
LINE_BREAKS = r"(?i)\s*<br\s*/?>(?:\s*<br\s*/?>)*\s*"
# Far beyond any review the models read (their inputs stop at a few hundred tokens, about 2 KB of text, from a
# review's start and end); IMDB's longest is 14,282 bytes.
MAX_BYTES = 20_000


def plain_text(text):
    """`text` as the data readers write it, what `sanitize` does in the graph: HTML's escapes decoded
    (`HTML_ESCAPES`), then typographic forms written as ASCII (`fold_typography`)."""
    if "&" in text:
        for escape, plain in _HTML_ESCAPES:
            text = escape.sub(plain, text)
    return fold_typography(text)


def fold_typography(text):
    """`text` with each typographic form of `TYPOGRAPHIC_FORMS` written as its ASCII: what the data readers do to
    the training texts, as `sanitize` does in the serving graph."""
    for form, plain in _FOLDS:
        if form in text:  # most texts hold none; `str.translate` took 40 times as long on IMDB's 100,000 reviews
            text = text.replace(form, plain)
    return text


def forms_unknown_to(knows):
    """The part of `TYPOGRAPHIC_FORMS` a vocabulary lacks where it knows the ASCII (`knows(character)`): what a
    tokenizer learned from a text of its own (the GPT's) reads as ASCII, keeping each form its text uses."""
    return {plain: "".join(form for form in forms if not knows(form)) for plain, forms in TYPOGRAPHIC_FORMS.items()
            if all(knows(character) for character in plain)}


def folded_in_graph(texts, forms=TYPOGRAPHIC_FORMS):
    """`texts` (`tf.string`) with each of `forms` written as its ASCII: `fold_typography` in a graph."""
    import tensorflow as tf

    for plain, typed in forms.items():
        if typed:
            texts = tf.strings.regex_replace(texts, f"[{typed}]", plain)
    return texts


def sanitize(texts, max_bytes=MAX_BYTES):
    """Each string cleaned as the data readers clean the training texts: invalid UTF-8 replaced, HTML's escapes
    decoded and typographic punctuation written as ASCII (what `plain_text` does), line breaks made spaces, the ends
    stripped. A cleaned text longer than `max_bytes` is cut to its first and last halves (the classifiers read a
    review's start and its end, where its verdict is), a character split there dropped: served again, it is the
    same text.

    The cut measures the cleaned text, the one the models learned from: markup and curly quotes can take a review's
    raw bytes past `max_bytes` while its cleaned text fits. To bound the work, a raw string over 4 x `max_bytes` is
    first cut to its first and last 2 x `max_bytes` bytes; only a text that its cleaning shrinks more than fourfold
    (a page of line breaks) loses some of its middle there."""
    import tensorflow as tf  # in here: the IMDB reader, which task command lines import, shares LINE_BREAKS

    texts = tf.strings.unicode_transcode(_ends(texts, 4 * max_bytes), "UTF-8", "UTF-8", errors="replace")
    texts = tf.strings.strip(cleaned_in_graph(texts))
    return tf.strings.unicode_transcode(_ends(texts, max_bytes), "UTF-8", "UTF-8", errors="ignore")


def cleaned_in_graph(texts):
    """`texts` (`tf.string`) cleaned as the IMDB reader cleans a review (`keras_apps.data.imdb.clean`), less the
    trim: HTML's escapes decoded, typographic forms written as ASCII, each run of line breaks one space."""
    import tensorflow as tf

    for escape, plain in HTML_ESCAPES:
        texts = tf.strings.regex_replace(texts, escape, plain)
    return tf.strings.regex_replace(folded_in_graph(texts), LINE_BREAKS, " ")


def served_text(text):
    """`text` as a serving signature cleans it (`sanitize`) before its model reads it: what an explanation of the
    model's answer shows and scores."""
    import tensorflow as tf

    return sanitize(tf.constant([text])).numpy()[0].decode("utf-8")


def as_raw_text(served):
    """A text as served (`served_text`, or words of one) written so that serving reads it unchanged: each `&` as
    `&amp;`. `sanitize` decodes escapes once, so a review's `&amp;lt;` is served as the text `&lt;`, which served
    again would be `<`: what an explanation scores must be read as the export read it."""
    return served.replace("&", "&amp;")


def _ends(texts, max_bytes):
    """Each of `texts` longer than `max_bytes` bytes as its first and last `max_bytes // 2` bytes, a space between;
    a cut may split a character."""
    import tensorflow as tf

    half, lengths = max_bytes // 2, tf.strings.length(texts)
    ends = tf.strings.substr(texts, 0, half) + " " + tf.strings.substr(texts, tf.maximum(lengths - half, 0),
                                                                         tf.fill(tf.shape(lengths), half))
    return tf.where(lengths > max_bytes, ends, texts)
