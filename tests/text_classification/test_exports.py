import numpy as np
import tensorflow as tf

from keras_apps.data.imdb import clean
from keras_apps.export.saved_model import export_model, load_serving
from keras_apps.inference.serving import text_classifier_endpoints
from keras_apps.models.bow import build_bow_classifier
from keras_apps.text.ngrams import NGramFeatures
from keras_apps.text_classification.encoders import ngram_encoder
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


def test_a_served_text_is_explained_as_the_export_read_it_not_cleaned_twice(tmp_path):
    """Serving decodes a review's HTML escapes once (`&amp;lt;` is the text `&lt;`); its explanation scored the served
    text through the signature again, which read `great&lt;br&gt;great` as two words `great`, not the one unknown
    word the export read."""
    features = NGramFeatures.learn([text for text, _ in TINY_REVIEWS], [label for _, label in TINY_REVIEWS],
                                   max_tokens=50)
    model = build_bow_classifier(features.num_features, hidden_units=0, sparse=True)
    kernel = np.zeros((features.num_features, 1), np.float32)
    kernel[features.vectorizer.get_vocabulary().index("great")] = 1.0
    model.get_layer("logit").set_weights([kernel, np.zeros(1, np.float32)])
    encoder = ngram_encoder(features, tmp_path)
    path = export_model(model, tmp_path / "exports", text_classifier_endpoints(model, encoder.encode),
                        track=encoder.track, files_to_copy=encoder.files)
    review = "great&amp;lt;br&amp;gt;great"
    served = float(load_serving(path)[1](texts=tf.constant([review]))["probability"][0])
    explainer = ReviewExplainer(path, task=None)
    for method in ("ig", "lime"):
        explained = explainer.explain(review, method, samples=10)
        assert explained.words == ["great&lt;br&gt;great"] and explained.probability == served == 0.5
        assert not explained.explanation.values.any()  # a word the model does not know
