"""IMDB's workflows on tiny in-memory reviews: the classifier of each family, the teacher's verdicts, BERT's
starting points, and an export used for scores and explanations."""

import json
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.data.imdb import LabeledTexts
from keras_apps.errors import UserError
from keras_apps.lifecycle import Export, start_run
from keras_apps.recipes import Recipe
from keras_apps.settings import SettingError
from keras_apps.text_classification import bert_start, classifier, exports, teacher
from keras_apps.text_classification.recipes import BertSource, NGramSettings, Pretraining, TextClassifier
from keras_apps.training.config import TrainingConfig
from tests.conftest import TINY_REVIEWS

REVIEWS = LabeledTexts([text for text, _ in TINY_REVIEWS] * 4, np.array([label for _, label in TINY_REVIEWS] * 4))
NGRAMS = TextClassifier("ngrams", dict(hidden_units=0), ngrams=NGramSettings(500, "naive-bayes"))
TRAINING = TrainingConfig(epochs=2, batch_size=8, learning_rate=1e-2, strategy="cpu")
BERT = TextClassifier("bert", dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.1),
                      sequence_length=32)


class Splits:
    train, validation, test = REVIEWS, REVIEWS, REVIEWS
    unlabeled = ["A great film.", "Awful and dull.", "I loved it."]


def open_run(tmp_path, name="run", config=TRAINING):
    run = start_run("imdb", config, run_dir=tmp_path / name, export_dir=tmp_path / "exports")
    run.open({})
    return run


def test_a_classifier_settings_refuse_what_does_not_go_together():
    with pytest.raises(ValueError, match="unknown family"):
        TextClassifier("cnn")
    with pytest.raises(ValueError, match="n-gram settings"):
        TextClassifier("lstm", ngrams=NGramSettings(10, "tf-idf"))
    with pytest.raises(SettingError, match="^--teacher applies to"):
        TextClassifier("ngrams", ngrams=NGramSettings(10, "tf-idf"), teacher="nb-bow")
    with pytest.raises(SettingError, match="^--preset and --pretrained-backbone"):
        BertSource(preset="bert_tiny_en_uncased", pretrained_backbone="runs/x/backbone")
    assert BertSource().is_default and not BertSource(from_scratch=True).is_default


def test_pretraining_takes_its_own_settings_and_the_runs_others():
    config = Pretraining(epochs=3, batch_size=16).training(TrainingConfig(seed=7, strategy="cpu", epochs=9))
    assert (config.epochs, config.batch_size, config.seed, config.strategy, config.jit_compile) == (3, 16, 7, "cpu",
                                                                                                   True)


@pytest.mark.parametrize("settings", [
    NGRAMS,
    TextClassifier("lstm", dict(embedding_dim=8, units=4), sequence_length=16),
    TextClassifier("transformer", dict(embedding_dim=8, num_heads=2, intermediate_dim=8), sequence_length=16),
])
def test_each_family_learns_the_tiny_reviews_from_raw_text(settings, tmp_path):
    run = open_run(tmp_path, config=TrainingConfig(epochs=15, batch_size=8, learning_rate=2e-2, strategy="cpu"))
    model = classifier.classifier_for(settings, run, REVIEWS, vocabulary_size=200)
    result = classifier.fit_classifier(run.fit, model, REVIEWS, REVIEWS, run.config)
    probabilities = tf.sigmoid(classifier.logits(result.model, REVIEWS, model.encoder, 8)).numpy()
    assert ((probabilities >= 0.5) == (REVIEWS.labels == 1)).mean() == 1.0
    if settings.family != "ngrams":  # the vocabulary is learned once, in the run, and exported with the model
        assert (run.directory.path / classifier.VOCABULARY).is_file()
        assert model.encoder.files == [run.directory.path / classifier.VOCABULARY]


def test_the_teachers_verdicts_are_learned_once_and_follow_the_labels(tmp_path):
    recipe = Recipe(NGRAMS, TrainingConfig(epochs=30, batch_size=8, learning_rate=5e-2))
    run = open_run(tmp_path)
    verdicts = teacher.learned_verdicts(run, recipe, "nb-bow", Splits)
    assert verdicts.record["model"] == "nb-bow" and verdicts.record["unlabeled_reviews"] == 3
    assert verdicts.probabilities[0] > 0.5 > verdicts.probabilities[1] and verdicts.probabilities[2] > 0.5
    saved = tmp_path / "run" / "teacher" / "unlabeled_probabilities.json"
    assert json.loads(saved.read_text())["probabilities"] == [round(float(p), 6) for p in verdicts.probabilities]
    again = teacher.learned_verdicts(open_run(tmp_path), recipe, "nb-bow", Splits)  # a resume reads them back
    np.testing.assert_allclose(again.probabilities, verdicts.probabilities, atol=1e-6)
    saved.write_text("{not json")
    with pytest.raises(UserError, match="cannot read the teacher's verdicts"):
        teacher.load_verdicts(saved)


def test_bert_starts_new_pretrained_once_or_from_a_saved_backbone(tmp_path):
    run = open_run(tmp_path)
    vocabulary = classifier.learned_vocabulary(run, REVIEWS.texts * 5, 120)

    scratch = bert_start.start(BertSource(from_scratch=True), BERT, Pretraining(), run=run,
                               vocabulary=lambda: vocabulary, corpus=[], validation_texts=[])
    assert scratch.pretraining == {"pretrained": False} and not (tmp_path / "run" / "backbone").exists()

    quick = Pretraining(epochs=1, batch_size=8, sequence_length=16, jit_compile=False)
    corpus = dict(corpus=REVIEWS.texts, validation_texts=REVIEWS.texts[:8])
    pretrained = bert_start.start(BertSource(), BERT, quick, run=run, vocabulary=lambda: vocabulary, **corpus)
    assert pretrained.pretraining["pretrained"] and pretrained.pretraining["epochs"] == 1
    assert pretrained.sequence_length == 32 and (tmp_path / "run" / "backbone" / "config.json").is_file()
    backbone = pretrained.build_backbone()
    assert backbone.get_config()["dropout"] == 0.1  # pre-trained without dropout, fine-tuned with it

    # A resumed run, and another run given --pretrained-backbone, reuse the saved backbone.
    resumed = bert_start.start(BertSource(), BERT, quick, run=open_run(tmp_path), vocabulary=lambda: vocabulary,
                               **corpus)
    reused = bert_start.start(BertSource(pretrained_backbone=str(tmp_path / "run" / "backbone")), BERT, quick,
                              run=open_run(tmp_path, "other"), vocabulary=lambda: vocabulary, **corpus)
    for start in (resumed, reused):
        for mine, theirs in zip(start.build_backbone().get_weights(), backbone.get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    model = classifier.bert_classifier(reused, dropout=0.1).build()
    assert model.output.shape == (None, 1)


@pytest.mark.parametrize("settings", [NGRAMS, TextClassifier("lstm", dict(embedding_dim=8, units=4),
                                                                 sequence_length=8)])
def test_an_export_scores_raw_text_and_explains_a_review(settings, tmp_path):
    from keras_apps.export.saved_model import load_serving
    from keras_apps.inference.serving import text_classifier_endpoints

    run = open_run(tmp_path, config=TrainingConfig(epochs=15, batch_size=8, learning_rate=5e-2, strategy="cpu"))
    model = classifier.classifier_for(settings, run, REVIEWS, vocabulary_size=200)
    result = classifier.fit_classifier(run.fit, model, REVIEWS, REVIEWS, run.config)
    export = Export(text_classifier_endpoints(result.model, model.encoder.encode), track=model.encoder.track,
                    files=model.encoder.files, metadata={"inputs": "texts"})
    run.finish(result, settings.family, export, card=_card(), report=lambda metrics: None,
               summary=lambda metrics: "done")

    _, serve = load_serving(tmp_path / "exports", task="imdb")
    probabilities = exports.scores(serve, REVIEWS.texts[:8], batch_size=3)
    assert ((probabilities >= 0.5) == (REVIEWS.labels[:8] == 1)).all() and len(exports.scores(serve, [])) == 0
    explainer = exports.ReviewExplainer(tmp_path / "exports", "imdb")
    # Longer than the LSTM's 8 tokens: its head-and-tail cut leaves words out, which get nothing.
    review = "A wonderful film, the acting is superb and the story moving. Great music, great cast, a joy to watch."
    for method in ("ig", "lime", "shap"):
        explained = explainer.explain(review, method, steps=16, samples=300)
        assert explained.words[:2] == ["A", "wonderful"] and len(explained.explanation.values) == len(explained.words)
        assert explained.summary.startswith("positive") and explained.explanation.method == method
        if settings is NGRAMS or method == "ig":  # (the saturated LSTM leaves LIME's samples next to nothing)
            assert explained.explanation.values[1] > 0  # "wonderful" pushed the review toward positive
        if method == "ig":  # every feature's or token's attribution is on a word, out-of-vocabulary n-grams' too
            assert f"the attributions sum to {explained.explanation.values.sum():+.3f} " in explained.note
    if settings.family == "lstm":
        explained_by_ig = explainer.explain(review)
        assert explained.explanation.values[5:-3].any() and not explained_by_ig.explanation.values[5:-3].any()
        unread = re.search(r"; (\d+) of the 19 words were not read by the model \(past its cut", explained_by_ig.note)
        assert unread and int(unread[1]) >= 19 - 8  # its 8 tokens are of 8 words at most
        # Its first 2 tokens and last 6 are read; the last token cut is the head's last again, which a head of 1
        # would also give: the words read are the export's cut, not the first cut that fits.
        values = explainer.explain("the the film the and and and and and and").explanation.values
        assert values[1] != 0 and values[2] == values[3] == 0
    with pytest.raises(UserError, match="the review has no words"):
        explainer.explain("<br /><br />  ")
    # A page serving for hours explains with the export it loaded when the folder is removed or replaced under it.
    loaded = explainer.explain(review, "ig", steps=16)
    shutil.rmtree(tmp_path / "exports")
    np.testing.assert_array_equal(explainer.explain(review, "ig", steps=16).explanation.values,
                                  loaded.explanation.values)


def _card():
    from keras_apps.export.model_card import CardText

    return CardText(description="d", data="d", intended_use="u", limits="l")
