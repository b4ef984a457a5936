import keras
import numpy as np
import pytest

from keras_apps.errors import UserError
from keras_apps.explain.text import (
    OUT_OF_VOCABULARY, explain_features, explain_tokens, word_attributions, words, write_shaded_html,
)


def keyword_model():
    """Token ids in; the logit rises with the share of token 7 ("great") and falls with token 8 ("awful")."""
    token_ids = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 2, mask_zero=True, name="embedding")(token_ids)
    pooled = keras.layers.GlobalAveragePooling1D()(embedded)
    model = keras.Model(token_ids, keras.layers.Dense(1, use_bias=False)(pooled))
    table = np.zeros((10, 2), "float32")
    table[7], table[8] = [3.0, 0.0], [0.0, 3.0]
    model.get_layer("embedding").set_weights([table])
    model.layers[-1].set_weights([np.array([[1.0], [-1.0]], "float32")])
    return model


def test_the_keyword_tokens_get_the_attribution_and_padding_none():
    attribution, kept = explain_tokens(keyword_model(), [3, 7, 4, 8, 5, 0, 0])
    assert kept.tolist() == [3, 7, 4, 8, 5]
    values = attribution.values
    assert values.argmax() == 1 and values.argmin() == 3 and values[1] > 0 > values[3]
    assert np.allclose(values[[0, 2, 4]], 0) and attribution.completeness_gap < 1e-4


def test_a_tokens_attribution_sums_its_embedding_dimensions_and_all_add_up_to_the_output():
    """Token 7's embedding [3, 0] averaged over three tokens gives the logit 1; it is all token 7's."""
    attribution, _ = explain_tokens(keyword_model(), [3, 7, 4, 0])
    np.testing.assert_allclose(attribution.values, [0.0, 1.0, 0.0], atol=1e-4)
    assert attribution.output == pytest.approx(1.0, abs=1e-5)


def test_a_review_of_padding_only_is_a_clear_error():
    with pytest.raises(UserError, match="no tokens"):
        explain_tokens(keyword_model(), [0, 0, 0])


def test_feature_attributions_of_a_linear_model_are_weight_times_feature():
    features = keras.Input((4,))
    model = keras.Model(features, keras.layers.Dense(1)(features))
    model.layers[-1].set_weights([np.array([[2.0], [-1.0], [0.0], [4.0]], "float32"), np.array([0.5], "float32")])
    attribution = explain_features(model, [1.0, 1.0, 0.0, 0.5])
    np.testing.assert_allclose(attribution.values, [2.0, -1.0, 0.0, 2.0], rtol=1e-5)
    assert attribution.baseline_output == pytest.approx(0.5)


def test_words_and_their_ngram_shares():
    review = words("Not bad. NOT bad at all!")
    assert review == ["not", "bad", "not", "bad", "at", "all"]
    shares = word_attributions(review, {"bad": -2.0, "not bad": 3.0, "all": 1.0})
    # "bad" twice shares -2; "not bad" twice shares +3, half to each of its words.
    np.testing.assert_allclose(shares, [0.75, -1 + 0.75, 0.75, -1 + 0.75, 0, 1.0])
    assert shares.sum() == pytest.approx(-2.0 + 3.0 + 1.0)


def test_the_n_grams_the_vocabulary_lacks_share_their_one_feature():
    review = words("Not bad at all, zorblax")  # the vocabulary: "not", "bad", "not bad"; [UNK]: the other six
    shares = word_attributions(review, {"not": 1.0, "bad": -2.0, "not bad": 3.0, OUT_OF_VOCABULARY: 0.6})
    # "at", "all", "zorblax"; "bad at", "at all", "all zorblax": 0.1 each, a bigram's half to each of its words
    np.testing.assert_allclose(shares, [1.0 + 1.5, -2.0 + 1.5 + 0.05, 0.1 + 0.1, 0.1 + 0.1, 0.1 + 0.05])
    assert shares.sum() == pytest.approx(1.0 - 2.0 + 3.0 + 0.6)  # every feature's value shown on a word
    # "zorb", "zorb" and "zorb zorb": three occurrences of two unknown n-grams share the feature
    np.testing.assert_allclose(word_attributions(["zorb", "zorb"], {OUT_OF_VOCABULARY: 0.6}), [0.3, 0.3])


def test_the_page_escapes_and_shades(tmp_path):
    path = write_shaded_html(tmp_path / "page.html", "t", "s <b>", ["<great>", "awful"], np.array([2.0, -1.0]))
    page = path.read_text()
    assert "&lt;great&gt;" in page and "s &lt;b&gt;" in page
    assert "rgba(0, 160, 60, 1.000)" in page and "rgba(220, 40, 40, 0.500)" in page
