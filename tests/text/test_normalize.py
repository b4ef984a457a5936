import tensorflow as tf

from keras_apps.data import imdb
from keras_apps.text.normalize import (TYPOGRAPHIC_FORMS, cleaned_in_graph, fold_typography, plain_text, sanitize,
                                       served_text)


def _clean(*texts, **kwargs):
    return [text.decode("utf-8") for text in sanitize(tf.constant(list(texts)), **kwargs).numpy()]


def test_line_breaks_become_one_space_and_ends_are_trimmed():
    assert _clean("  Great.<br /><br />Really <BR>good  ") == ["Great. Really good"]


def test_invalid_utf8_is_replaced_not_fatal():
    (text,) = _clean(b"caf\xc3\xa9 \xff\xfe bytes")
    assert text.startswith("café ") and text.endswith(" bytes") and "\ufffd" in text


def test_long_texts_keep_their_start_and_their_end_and_a_split_character_is_dropped():
    (text,) = _clean("é" * 10, max_bytes=10)  # 5 bytes each end: two whole characters and half of a third
    assert text == "éé éé"
    (text,) = _clean("What a start. " + "Dull, boring and awful. " * 1_000 + "But the ending is superb!")
    assert text.startswith("What a start. Dull") and text.endswith("and awful. But the ending is superb!")
    assert len(text.encode()) <= 20_001  # a review's verdict is at its end, where the classifiers read it too


def test_a_served_text_served_again_is_the_same_text():
    """What an explanation shows and scores through the signature is the text the signature served."""
    for typed in ("é" * 10, "aé" * 9, "What &amp; a ’start’.<br />" + "Dull. " * 4_000 + "Superb!"):
        for max_bytes in (10, 11, 20_000):
            (served,) = _clean(typed, max_bytes=max_bytes)
            assert _clean(served, max_bytes=max_bytes) == [served]
    assert served_text(typed) == _clean(typed)[0]


def test_a_text_is_cut_by_the_length_of_its_cleaned_text_the_text_the_models_learned_from():
    """Markup or curly quotes took a review's raw bytes past the cut while its cleaned text fitted: served, it lost
    its middle, which the model had read whole in training (a positive start and end around a damning middle was
    scored positive by the signature and negative by the explanation)."""
    review = ("A great start. " + "<br /><br />" * 900 + "Awful, boring, dreadful. " * 300 + "“’" * 2_000
              + "A great end.")
    assert len(review.encode()) > 30_000 > 20_000 > len(imdb.clean(review).encode())
    assert _clean(review) == [imdb.clean(review)] == [served_text(review)]


def test_empty_and_whitespace_stay_valid_strings():
    assert _clean("", "   \n ") == ["", ""]


def test_typographic_punctuation_is_written_as_ascii_as_the_data_readers_write_it():
    typed = "It´s “great”… isn’t it? ‘Don`t’ „miss″ it‚ ‛ok′\u00a0x\u2007y\u202fz"
    assert _clean(typed) == [fold_typography(typed)] == ["It's \"great\"... isn't it? 'Don't' \"miss\" it' 'ok' x y z"]
    every_form = "".join(TYPOGRAPHIC_FORMS.values())
    assert _clean(f"<{every_form}>") == [fold_typography(f"<{every_form}>")]


def test_every_other_space_is_a_space_and_invisible_characters_are_nothing():
    """A thin space, an ideographic space, U+0085 (cp1252's ellipsis) or a line separator: a space to Python's
    `split`, which the data readers use, and none to the graph's tokenizers, so the same words were read as one
    unknown word in serving. A soft hyphen, a zero-width space or a second file's byte-order mark: invisible, and a
    word holding one was another word."""
    typed = "A\u2009boring,\u3000stupid\x85mess.\u2028Du\u00adll\u200b and\ufeff dull\x0c."
    assert _clean(typed) == [fold_typography(typed)] == ["A boring, stupid mess. Dull and dull ."]
    assert _clean("\u2003 Dull \u2029") == ["Dull"]  # the ends are trimmed as the readers trim them


def test_a_nul_is_a_space_so_the_words_after_it_are_read():
    """keras-hub's WordPiece splitting (tensorflow-text's C code) stops reading a text at a NUL: a review after one
    was scored as the empty text, a prompt was continued from nothing, a sentence translated as its first word."""
    from keras_apps.text.vocabulary import RESERVED_TOKENS, build_tokenizer

    typed = "\x00great\x00film"
    assert _clean(typed) == ["great film"] and imdb.clean(typed) == "great film"
    tokenizer = build_tokenizer([*RESERVED_TOKENS, "great", "film"])
    assert [tokenizer.id_to_token(int(i)) for i in tokenizer(sanitize(tf.constant([typed])))[0]] == ["great", "film"]


def test_html_escapes_are_the_characters_they_stand_for_once():
    """A review copied from a page's source, or scraped without decoding: `don&#39;t` was another word than
    `don't`, and `&lt;br /&gt;` no line break. Decoded once: `&amp;lt;` is the text `&lt;`."""
    typed = "Tom&#39;s &quot;best&quot; &amp; worst&lt;br /&gt;film &amp;lt;3 don&#x27;t&nbsp;go"
    assert _clean(typed) == ['Tom\'s "best" & worst film &lt;3 don\'t go'] == [imdb.clean(typed)]
    assert plain_text("&amp;#39;") == "&#39;"


def test_every_spelling_of_an_escape_of_punctuation_is_decoded_to_what_the_training_texts_write():
    """A page's source spells `’` as `&rsquo;`, `&#8217;` or `&#x2019;`, an apostrophe as `&#039;` (WordPress):
    each was left as it was, so `don&rsquo;t` was another word than `don't`. Other characters' escapes stay as
    they are, in training and serving alike."""
    typed = ("don&rsquo;t &#8217;n&#X2019;&#039; &CloseCurlyQuote;&ldquo;so&#x201d;&hellip;&#8230; "
             "in&shy;visible&ZeroWidthSpace; thin&thinsp;space &#60;b&#x3E; &AMP;amp; Am&#233;lie &rsquo")
    plain = "don't 'n'' '\"so\"...... invisible thin space <b> &amp; Am&#233;lie &rsquo"
    assert _clean(typed) == [plain_text(typed)] == [plain] == [imdb.clean(typed)]


def test_a_text_cleaned_in_the_graph_is_the_imdb_readers_cleaning_less_the_trim():
    """What a GPT of cleaned reviews reads a prompt as: every review cleaning but the trim, which would drop a
    prompt's closing new line."""
    typed = " Tom&#39;s &quot;best&quot;<br /><BR>film&rsquo;s \u2003end\n"
    (cleaned,) = cleaned_in_graph(tf.constant([typed])).numpy()
    assert cleaned.decode("utf-8") == ' Tom\'s "best" film\'s  end\n' and imdb.clean(typed) == cleaned.decode().strip()
