"""Cross-attention maps: distributions over the real source tokens, computed as the decoder computes them."""

import keras
import numpy as np
import pytest
from keras import ops
from PIL import Image

from keras_apps.errors import UserError
from keras_apps.explain.attention import (
    cross_attention, draw_translation_attention, explain_translation, plot_cross_attention,
)
from keras_apps.inference.serving import translation_endpoint
from keras_apps.models.translator import TranslatorConfig, build_translator
from keras_apps.text.translation_tokens import SentenceTokenizer, learn_vocabulary
from tests.conftest import TINY_PAIRS, sharpen_translator

CONFIG = TranslatorConfig(source_vocabulary_size=40, target_vocabulary_size=30, max_length=12, num_layers=2,
                          num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)


def test_each_row_is_a_distribution_over_the_real_source_tokens():
    model = build_translator(CONFIG)
    weights = cross_attention(model, [5, 6, 7, 0, 0], [2, 8, 9, 10])
    assert weights.shape == (CONFIG.num_heads, 4, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(weights[:, :, 3:] < 1e-6)  # padding gets no attention


def test_a_step_does_not_see_the_tokens_written_after_it():
    model = build_translator(CONFIG)
    weights = cross_attention(model, [5, 6, 7], [2, 8, 9, 10])
    changed_later = cross_attention(model, [5, 6, 7], [2, 8, 11, 12])
    np.testing.assert_allclose(weights[:, :2], changed_later[:, :2], atol=1e-6)
    assert not np.allclose(weights[:, 2:], changed_later[:, 2:], atol=1e-6)


def test_the_recomputed_block_reproduces_the_decoder_output():
    """The weights come from the same computation as the model's: finishing the block by hand from the
    cross-attention output gives the block's own output."""
    model = build_translator(CONFIG)
    source, target = ops.convert_to_tensor([[5, 6, 7]]), ops.convert_to_tensor([[2, 8, 9]])
    encoded = model.get_layer("encoder_norm").output
    inner = keras.Model(model.inputs, [encoded, *(model.get_layer(f"decoder_{i}").output for i in (0, 1))])
    encoded, before, after = inner({"source_ids": source, "target_ids": target})
    last = model.get_layer("decoder_1")
    causal = ops.tril(ops.ones((1, 3, 3), dtype="bool"))
    query = last._self_attention_layer_norm(before)
    x = before + last._self_attention_layer(query=query, value=query, attention_mask=causal)
    attended, _ = keras.layers.MultiHeadAttention.call(
        last._cross_attention_layer, query=last._cross_attention_layer_norm(x), value=encoded,
        return_attention_scores=True)
    x = x + attended
    x = x + last._feedforward_output_dense(last._feedforward_intermediate_dense(last._feedforward_layer_norm(x)))
    np.testing.assert_allclose(ops.convert_to_numpy(x), ops.convert_to_numpy(after), rtol=1e-4, atol=1e-5)


def test_the_heat_map_is_a_png(tmp_path):
    weights = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    path = plot_cross_attention(weights, ["I", "like", "tea", "."], ["[START]", "Me", "gusta"], tmp_path / "a.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 100


def test_the_heat_map_draws_the_heads_average_of_the_written_and_source_tokens(tmp_path, monkeypatch):
    import matplotlib.axes

    drawn = []
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", lambda axis, array, *args, imshow=matplotlib.axes.Axes.imshow,
                        **kwargs: drawn.append(array) or imshow(axis, array, *args, **kwargs))
    weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(2, 4))  # [heads, steps, source tokens + padding]
    plot_cross_attention(weights, ["I", "like", "tea", "."], ["[START]", "Me", "gusta"], tmp_path / "a.png")
    np.testing.assert_allclose(drawn[0], weights.mean(axis=0)[:3, :4])


def test_dollar_signs_in_a_sentence_are_drawn_as_written_not_read_as_mathematics(tmp_path):
    """`$5 or $6` was drawn as the mathematics `5 or 6` in italics, and `$\\alpha^{ $` was a traceback."""
    weights = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    for title in ("I paid $5 for the $10 ticket.", "The cost is $\\alpha^{ $ ok"):
        plot_cross_attention(weights, ["$5", "or", "$\\alpha^{", "$"], ["[START]", "$", "x"], tmp_path / "a.png",
                             title=title)
        assert Image.open(tmp_path / "a.png").format == "PNG"


def test_an_output_that_is_a_folder_is_refused_before_translating(tmp_path):
    with pytest.raises(UserError, match="is a folder; name a file to write"):  # no model needed to get there
        draw_translation_attention(None, None, None, "hello", 1, tmp_path)


@pytest.fixture(scope="module")
def tokenizers():
    return tuple(SentenceTokenizer(learn_vocabulary([pair[side] for pair in TINY_PAIRS] * 20, 200), 12)
                 for side in (0, 1))


def _translator_config(english, spanish):
    return TranslatorConfig(english.vocabulary_size(), spanish.vocabulary_size(), max_length=12, num_layers=1,
                            num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)


def test_the_map_is_of_the_translation_the_export_serves_for_the_sentence_as_typed(tokenizers):
    """The demo shows the served translation beside this map: both read the sentence as the export's graph
    cleans it (curly quotes as Tatoeba's straight ones, the ends stripped)."""
    import tensorflow as tf

    english, spanish = tokenizers
    model = sharpen_translator(build_translator(_translator_config(*tokenizers)), end_bias=0.0)
    serve, _ = translation_endpoint(model, english, spanish, beam_size=1)
    for sentence in ("  I’m fine…  ", "Tom is tall."):
        explained = explain_translation(model, english, spanish, sentence)
        assert explained.translation == serve(tf.constant([sentence]))["translations"].numpy()[0].decode("utf-8")
        assert "[UNK]" not in explained.source_tokens
    assert explained.title == f"Tom is tall. → {explained.translation}"
    long = explain_translation(model, english, spanish, "Tom is tall. " * 5)  # 20 tokens
    assert len(long.source_tokens) == 12 and "(the model read its first 12 of 20 tokens) → " in long.title
    with pytest.raises(UserError, match="has no words the model reads: nothing to translate"):
        explain_translation(model, english, spanish, "\u200b")  # a zero-width space: blank once cleaned


@pytest.mark.parametrize("end_bias, ends_at_once", [(0.5, False), (1.0, True)])
def test_the_map_has_one_row_per_written_token_the_end_included(tokenizers, end_bias, ends_at_once):
    english, spanish = tokenizers
    model = sharpen_translator(build_translator(_translator_config(*tokenizers)), end_bias=end_bias)
    explained = explain_translation(model, english, spanish, "Tom is tall.")
    written, read = len(explained.written_tokens), len(explained.source_tokens)
    assert explained.weights.shape == (2, written, read)
    if ends_at_once:
        assert explained.written_tokens == ["[END]"] and explained.translation == ""
    else:
        assert written == 11 and "[END]" not in explained.written_tokens  # it ran to the longest translation
