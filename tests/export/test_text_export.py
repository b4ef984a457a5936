"""A text classifier exported with its tokenizer: raw strings in, the same scores after a fresh reload,
and an answer for every input a client might send."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.explain.text import OUT_OF_VOCABULARY
from keras_apps.export.saved_model import export_model, load_serving
from keras_apps.inference.serving import (
    binary_classifier_endpoint, binary_text_classifier_endpoint, text_classifier_endpoints, text_encoding_endpoint,
)
from keras_apps.models.bert import build_bert_backbone, build_bert_classifier
from keras_apps.models.bow import build_bow_classifier
from keras_apps.models.transformer import build_transformer_classifier
from keras_apps.text.ngrams import NGramFeatures
from keras_apps.text_classification.encoders import ngram_encoder
from keras_apps.text_classification.exports import ReviewExplainer
from keras_apps.text.truncation import bert_head_and_tail_encoder
from keras_apps.text.vocabulary import build_tokenizer, learn_vocabulary
from tests.conftest import TINY_REVIEWS, run_python

AWKWARD = [
    b"A wonderful film.",
    b"",
    b"   \n\t ",
    b"bad bytes \xff\xfe\x80 in a review",
    b"Great. <br /><br /> Loved it.",
    b"long " * 200_000,  # 1 MB
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(0)
    vocabulary = learn_vocabulary([text for text, _ in TINY_REVIEWS] * 20, 100)
    tokenizer = build_tokenizer(vocabulary, sequence_length=16)
    model = build_transformer_classifier(len(vocabulary), 16, embedding_dim=8, num_heads=2, intermediate_dim=16)
    expected = keras.ops.sigmoid(model(tokenizer([text for text, _ in TINY_REVIEWS])))[:, 0]
    root = tmp_path_factory.mktemp("exports")
    endpoints = {"serving_default": binary_text_classifier_endpoint(model, tokenizer),
                 "encode": text_encoding_endpoint(tokenizer), "score": binary_classifier_endpoint(model)}
    path = export_model(model, root, endpoints, track=[tokenizer])
    return path, np.asarray(expected)


def test_signature_takes_strings_and_returns_probability_and_label(exported):
    path, expected = exported
    _, serve = load_serving(path)
    (spec,) = serve.structured_input_signature[1].values()
    assert spec.dtype == tf.string and spec.shape.as_list() == [None]
    outputs = serve(texts=tf.constant([text for text, _ in TINY_REVIEWS]))
    assert set(outputs) == {"probability", "label"} and outputs["label"].dtype == tf.int32
    np.testing.assert_allclose(outputs["probability"], expected, rtol=1e-5)
    np.testing.assert_array_equal(outputs["label"], (expected >= 0.5).astype(np.int32))


def test_fresh_process_reload_gives_the_in_memory_scores(exported, tmp_path):
    path, expected = exported
    texts = tmp_path / "texts.json"
    texts.write_text(json.dumps([text for text, _ in TINY_REVIEWS]))
    completed = run_python("tests/export/reload_texts.py", str(path), str(texts), str(tmp_path / "out.npz"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    outputs = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(outputs["probability"], expected, rtol=1e-5)
    np.testing.assert_array_equal(outputs["label"], (expected >= 0.5).astype(np.int32))
    # The network alone, fed by the text half, gives the same scores: what `compress` relies on.
    np.testing.assert_allclose(outputs["two_step_probability"], expected, rtol=1e-5)


def test_the_encode_signature_returns_the_networks_dense_inputs(exported):
    path, _ = exported
    _, encode = load_serving(path, signature="encode")
    inputs = encode(texts=tf.constant([b"A great movie.", b""]))["inputs"]
    assert inputs.dtype.is_integer and inputs.shape == (2, 16)
    _, score = load_serving(path, signature="score")
    assert set(score(inputs=inputs)) == {"probability", "label"}


def test_every_awkward_input_gets_an_answer(exported):
    path, _ = exported
    _, serve = load_serving(path)
    outputs = serve(texts=tf.constant(AWKWARD))
    probabilities = outputs["probability"].numpy()
    assert probabilities.shape == (len(AWKWARD),) and np.isfinite(probabilities).all()
    # The line breaks are cleaned as in training: with and without them, the same review.
    same = serve(texts=tf.constant([b"Great.  Loved it.", b"Great. <br /><br /> Loved it."]))["probability"]
    assert float(same[0]) == pytest.approx(float(same[1]))


@pytest.mark.parametrize("signature", ["serving_default", "encode"])
@pytest.mark.parametrize("texts", [tf.constant("A great movie."), tf.constant([["A great movie."], ["Dull."]])])
def test_a_scalar_or_a_matrix_of_texts_is_refused_not_answered_as_another_batch(exported, signature, texts):
    """The signature says `string [batch]`, which a reloaded signature does not check: the graph does."""
    _, serve = load_serving(exported[0], signature=signature)
    with pytest.raises(tf.errors.InvalidArgumentError, match="is not compatible with expected shape \\[\\?\\]"):
        serve(texts=texts)


def test_a_batch_of_a_thousand_reviews(exported):
    path, _ = exported
    _, serve = load_serving(path)
    texts = [text.encode() for text, _ in TINY_REVIEWS] * 125
    probabilities = serve(texts=tf.constant(texts))["probability"].numpy()
    assert probabilities.shape == (1000,)
    np.testing.assert_allclose(probabilities[:8], probabilities[8:16], rtol=1e-6)


@pytest.fixture(scope="module")
def ngram_export(tmp_path_factory):
    """The default IMDB export's shape: sparse n-gram features into a bag-of-n-grams network."""
    keras.utils.set_random_seed(0)
    features = NGramFeatures.learn([text for text, _ in TINY_REVIEWS], [label for _, label in TINY_REVIEWS],
                                   max_tokens=50)
    model = build_bow_classifier(features.num_features, hidden_units=4, sparse=True)
    endpoints = {"serving_default": binary_text_classifier_endpoint(model, features),
                 "encode": text_encoding_endpoint(features), "score": binary_classifier_endpoint(model)}
    path = export_model(model, tmp_path_factory.mktemp("ngrams"), endpoints, track=[features.vectorizer])
    return tf.saved_model.load(str(path)).signatures, features.num_features


def test_an_ngram_export_answers_an_empty_batch_with_empty_outputs(ngram_export):
    signatures, num_features = ngram_export
    empty = tf.constant([], tf.string)
    outputs = signatures["serving_default"](texts=empty)
    assert outputs["probability"].shape == [0] and outputs["label"].shape == [0]
    assert signatures["encode"](texts=empty)["inputs"].shape == [0, num_features]
    assert signatures["serving_default"](texts=tf.constant([b"A great movie.", b""]))["label"].shape == [2]


@pytest.mark.parametrize("typed, plain", [
    # A phone or a web page writes “great” where the training reviews have "great", which the vectorizer reads as
    # the word great; as typed, it would be an unknown word.
    (["I loved every minute; a “great” and beautiful movie…", "Boring, predictable and badly written´"],
     ['I loved every minute; a "great" and beautiful movie...', "Boring, predictable and badly written'"]),
    # Thin or ideographic spaces are no spaces to the vectorizer (a review spaced so was one unknown word: IMDB's
    # test split so, 50 % right), and a soft hyphen or zero-width space made a word another.
    (["I\u2009loved\u2009every\u3000minute;\x85a beau\u00adtiful\u200b movie", "Boring,\u2028predictable"],
     ["I loved every minute; a beautiful movie", "Boring, predictable"]),
    # A review copied from a page's source: HTML's escapes for its punctuation.
    (["I didn&#39;t like it &amp; &quot;boring&quot;", "Great&lt;br /&gt;fun"],
     ["I didn't like it & \"boring\"", "Great fun"]),
], ids=["curly quotes", "other spaces", "html escapes"])
def test_a_review_typed_otherwise_is_scored_as_the_same_review_typed_plainly(ngram_export, typed, plain):
    serve = ngram_export[0]["serving_default"]
    np.testing.assert_array_equal(serve(texts=tf.constant(typed))["probability"],
                                  serve(texts=tf.constant(plain))["probability"])


def test_the_score_signature_refuses_non_finite_features(ngram_export):
    signatures, num_features = ngram_export
    features = np.zeros((2, num_features), np.float32)
    assert signatures["score"](inputs=tf.constant(features))["label"].shape == [2]
    features[1, 0] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="every input must be a finite number"):
        signatures["score"](inputs=tf.constant(features))


def test_the_score_signature_refuses_negative_token_ids_which_would_read_as_the_vocabulary_s_last():
    score, _ = binary_classifier_endpoint(build_transformer_classifier(20, 6, embedding_dim=8, num_heads=2))
    ids = np.ones((2, 6), np.int32)
    assert score(tf.constant(ids))["label"].shape == [2]
    ids[1, 3] = -1  # Keras's `take` reads it as id 19
    with pytest.raises(tf.errors.InvalidArgumentError, match="score: token ids, segment ids and masks are never "
                       "negative"):
        score(tf.constant(ids))


def test_a_bert_export_splits_into_its_three_inputs_and_the_network_which_litert_runs(tmp_path):
    from keras_apps.compress import litert

    keras.utils.set_random_seed(0)
    vocabulary = learn_vocabulary([text for text, _ in TINY_REVIEWS] * 20, 100)
    tokenizer = build_tokenizer(vocabulary)
    model = build_bert_classifier(build_bert_backbone(len(vocabulary), 16, num_layers=1, hidden_dim=16,
                                                      intermediate_dim=32))
    encode = bert_head_and_tail_encoder(tokenizer, 16, head=4)
    model(encode(tf.constant(["A great movie."])))  # builds the tokenizer
    path = export_model(model, tmp_path, text_classifier_endpoints(model, encode), track=[tokenizer])
    signatures = tf.saved_model.load(str(path)).signatures
    texts = tf.constant([text for text, _ in TINY_REVIEWS] + ["", "long " * 100])
    inputs = signatures["encode"](texts=texts)
    assert set(inputs) == {"token_ids", "segment_ids", "padding_mask"}
    assert all(tensor.dtype == tf.int32 and tensor.shape == (len(texts), 16) for tensor in inputs.values())
    expected = signatures["serving_default"](texts=texts)["probability"].numpy()
    np.testing.assert_allclose(signatures["score"](**inputs)["probability"], expected, rtol=1e-6)
    converted = litert.LiteRTModel(litert.convert(path, "float32", signature="score"), signature="score")
    np.testing.assert_allclose(converted(**{name: tensor.numpy() for name, tensor in inputs.items()})["probability"],
                               expected, atol=1e-5)
    explainer = ReviewExplainer(path, task=None)  # integrated gradients reads networks of one input
    assert not explainer.has_gradients
    with pytest.raises(UserError, match=r"of several inputs .* \(--method lime or shap explains any export\)"):
        explainer.explain("A great movie.", "ig")


def test_integrated_gradients_show_every_n_gram_s_attribution_on_a_word_the_unknown_ones_too(tmp_path):
    """One feature stands for every n-gram a bag-of-n-grams vocabulary lacks; its attribution was left off the
    words while the page's summary counted it."""
    features = NGramFeatures.learn([text for text, _ in TINY_REVIEWS], [label for _, label in TINY_REVIEWS],
                                   max_tokens=50)
    model = build_bow_classifier(features.num_features, hidden_units=0, sparse=True)
    vocabulary = features.vectorizer.get_vocabulary()
    kernel = np.zeros((features.num_features, 1), np.float32)
    kernel[vocabulary.index(OUT_OF_VOCABULARY)], kernel[vocabulary.index("great")] = -1.0, 2.0
    model.get_layer("logit").set_weights([kernel, np.zeros(1, np.float32)])
    encoder = ngram_encoder(features, tmp_path)
    path = export_model(model, tmp_path / "exports", text_classifier_endpoints(model, encoder.encode),
                        track=encoder.track, files_to_copy=encoder.files)
    explained = ReviewExplainer(path, task=None).explain("A great zorblax.", "ig", steps=16)
    shown = dict(zip(explained.words, explained.explanation.values))
    assert shown["great"] > 0 > shown["zorblax."]  # "zorblax", "great zorblax": unknown n-grams, weighed -1
    assert f"the attributions sum to {explained.explanation.values.sum():+.3f} " in explained.note
