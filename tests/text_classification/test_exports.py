import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.data.imdb import clean
from keras_apps.errors import UserError
from keras_apps.export.saved_model import export_model, load_serving
from keras_apps.inference.serving import text_classifier_endpoints
from keras_apps.models import parts
from keras_apps.models.bow import build_bow_classifier
from keras_apps.text.ngrams import NGramFeatures
from keras_apps.text.vocabulary import RESERVED_TOKENS, build_tokenizer, save_vocabulary
from keras_apps.text_classification.encoders import ngram_encoder, wordpiece_encoder
from keras_apps.text_classification.exports import ReviewExplainer
from tests.conftest import TINY_REVIEWS


def test_a_review_is_explained_and_scored_as_the_signature_serves_it(tmp_path):
    """Line breaks took a review's raw bytes past the serving cut while its cleaned text fitted: the signature
    scored it without its damning middle (positive), the explanation scored its whole cleaned text (negative)."""
    features = NGramFeatures.learn([text for text, _ in TINY_REVIEWS], [label for _, label in TINY_REVIEWS],
                                   max_tokens=50)
    model = build_bow_classifier(features.num_features, hidden_units=0, sparse=True)
    vocabulary = features.vectorizer.get_vocabulary()
    kernel = np.zeros((features.num_features, 1), np.float32)
    kernel[vocabulary.index("great")], kernel[vocabulary.index("awful")] = 1.0, -1.0
    model.get_layer("logit").set_weights([kernel, np.zeros(1, np.float32)])
    encoder = ngram_encoder(features, tmp_path)
    path = export_model(model, tmp_path / "exports", text_classifier_endpoints(model, encoder.encode),
                        track=encoder.track, files_to_copy=encoder.files)
    breaks = "<br /><br />" * 900
    review = "A great film. " + breaks + "Awful. " * 1_000 + breaks + "A great end."
    served = float(load_serving(path)[1](texts=tf.constant([review]))["probability"][0])
    explained = ReviewExplainer(path, task=None).explain(review, "lime", samples=10)
    assert explained.words == clean(review).split() and explained.probability == served < 0.5


def great_export(tmp_path):
    """The export of an n-gram classifier whose one positive word is "great"."""
    features = NGramFeatures.learn([text for text, _ in TINY_REVIEWS], [label for _, label in TINY_REVIEWS],
                                   max_tokens=50)
    model = build_bow_classifier(features.num_features, hidden_units=0, sparse=True)
    kernel = np.zeros((features.num_features, 1), np.float32)
    kernel[features.vectorizer.get_vocabulary().index("great")] = 1.0
    model.get_layer("logit").set_weights([kernel, np.zeros(1, np.float32)])
    encoder = ngram_encoder(features, tmp_path)
    return export_model(model, tmp_path / "exports", text_classifier_endpoints(model, encoder.encode),
                        track=encoder.track, files_to_copy=encoder.files)


def test_a_review_without_words_is_refused_not_explained(tmp_path):
    """A review of a control character or a left-to-right mark was "explained": P 0.5, every attribution 0, an
    answer about no text read as one about something."""
    explainer = ReviewExplainer(great_export(tmp_path), task=None)
    for review in ("<br /><br />", "\x01", "\u200e\u200d", "!!! ..."):
        with pytest.raises(UserError, match="^the review has no words .*: there is nothing to explain$"):
            explainer.explain(review, "lime", samples=10)
    assert explainer.explain("great!", "lime", samples=10).words == ["great!"]


def test_a_review_is_read_for_words_where_the_serving_signature_reads_it():
    """A review whose words all lay in the middle the serving cut leaves out was answered by `predict` (P 0.5)
    while `explain` refused it: the one checked the raw review, the other what the model reads."""
    from keras_apps.text.normalize import MAX_BYTES
    from keras_apps.text_classification.exports import read_words

    padding = "!" * (MAX_BYTES // 2 + 100)
    assert not read_words(padding + " a great film " + padding)
    assert read_words("Great " + padding + " a great film " + padding) and read_words("a great film")
    assert not read_words("<br /> \u200b")


def test_a_served_text_is_explained_as_the_export_read_it_not_cleaned_twice(tmp_path):
    """Serving decodes a review's HTML escapes once (`&amp;lt;` is the text `&lt;`); its explanation scored the served
    text through the signature again, which read `great&lt;br&gt;great` as two words `great`, not the one unknown
    word the export read."""
    path = great_export(tmp_path)
    review = "great&amp;lt;br&amp;gt;great"
    served = float(load_serving(path)[1](texts=tf.constant([review]))["probability"][0])
    explainer = ReviewExplainer(path, task=None)
    for method in ("ig", "lime"):
        explained = explainer.explain(review, method, samples=10)
        assert explained.words == ["great&lt;br&gt;great"] and explained.probability == served == 0.5
        assert not explained.explanation.values.any()  # a word the model does not know


def test_the_words_left_unread_are_counted_once_each_however_many_pieces_they_split_into(tmp_path):
    """Each "films" is two word pieces, "film" and "##s"; of the 10 pieces of this review an export of 8 tokens
    reads the first 2 and the last 6, which leave out one word (the first "a") and half of the first "films"."""
    vocabulary = [*RESERVED_TOKENS, "a", "great", "film", "##s"]
    save_vocabulary(vocabulary, tmp_path / "vocabulary.txt")
    encoder = wordpiece_encoder(build_tokenizer(vocabulary), tmp_path / "vocabulary.txt", sequence_length=8)
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    embedded = keras.layers.Embedding(len(vocabulary), 2, name=parts.EMBEDDING)(token_ids)
    model = keras.Model(token_ids, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(embedded)))
    encoder.encode(tf.constant(["a"]))  # builds the tokenizer the export tracks
    path = export_model(model, tmp_path / "exports", text_classifier_endpoints(model, encoder.encode),
                        track=encoder.track, files_to_copy=encoder.files)
    explained = ReviewExplainer(path, task=None).explain("great films a a a a great films", steps=4)
    assert "; 1 of the 8 words were not read by the model" in explained.note
    assert explained.explanation.values[2] == 0 and explained.explanation.values[1] != 0
