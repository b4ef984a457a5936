"""Decoding: the cached decoder reproduces the uncached one, beam 1 is greedy, wider beams score at least as
well as greedy, finished beams stay finished."""

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.inference.translation import (LENGTH_PENALTY, Translator, build_sampler, decoding_speed,
                                              translate_all)
from keras_apps.models.translator import TranslatorConfig, build_translator
from keras_apps.text.translation_tokens import END_ID, PAD_ID, START_ID
from tests.conftest import sharpen_translator

CONFIG = TranslatorConfig(source_vocabulary_size=40, target_vocabulary_size=30, max_length=16, num_layers=2,
                          num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)
SOURCES = tf.constant([[5, 6, 7, 8, 0, 0], [9, 10, 11, 12, 13, 14], [15, 0, 0, 0, 0, 0]])


@pytest.fixture(scope="module")
def translator():
    return Translator(sharpen_translator(build_translator(CONFIG)))


def test_cached_and_uncached_greedy_decoding_write_the_same_tokens(translator):
    cached = translator.translate(SOURCES, build_sampler(1), use_cache=True, stop_at_end=False)
    uncached = translator.translate(SOURCES, build_sampler(1), use_cache=False, stop_at_end=False)
    np.testing.assert_array_equal(cached.numpy(), uncached.numpy())
    assert len(np.unique(cached.numpy())) > 5  # a varied output, not one token repeated
    assert cached.shape == (3, CONFIG.max_length) and np.all(cached.numpy()[:, 0] == START_ID)


def test_each_cached_step_matches_the_full_model(translator):
    """Teacher-forced: greedy tokens are the argmax of the whole model's logits at every position."""
    tokens = translator.translate(SOURCES, build_sampler(1), stop_at_end=False).numpy()
    logits = translator.logits(SOURCES, tokens[:, :-1]).numpy()
    finished = np.cumsum(np.isin(tokens[:, :-1], [END_ID, PAD_ID]), axis=1) > 0
    expected = np.where(finished, PAD_ID, logits.argmax(-1))
    np.testing.assert_array_equal(tokens[:, 1:], expected)


def test_beam_search_with_one_beam_is_greedy_and_wider_beams_run_in_a_graph(translator):
    greedy = translator.translate(SOURCES, build_sampler(1))
    np.testing.assert_array_equal(translator.translate(SOURCES, build_sampler(1)).numpy(), greedy.numpy())
    beam_one = translator.translate(SOURCES, __import__("keras_hub").samplers.BeamSampler(num_beams=1))
    np.testing.assert_array_equal(beam_one.numpy(), greedy.numpy())
    beams = tf.function(lambda source: translator.translate(source, build_sampler(4)))(SOURCES).numpy()
    assert beams.shape == (3, CONFIG.max_length) and np.all(beams[:, 0] == START_ID)


def _length_normalized_log_probability(translator, tokens):
    """The model's own (teacher-forced) log-probability of each row's tokens after `[START]` up to `[END]`,
    normalized by length as `_best_beams` ranks beams."""
    log_probabilities = tf.nn.log_softmax(translator.logits(SOURCES, tokens[:, :-1])).numpy()
    chosen = np.take_along_axis(log_probabilities, tokens[:, 1:, None], axis=-1)[..., 0]
    written = tokens[:, 1:] != PAD_ID
    return (chosen * written).sum(axis=1) / ((5.0 + written.sum(axis=1)) / 6.0) ** LENGTH_PENALTY


def test_beam_search_scores_at_least_as_well_as_greedy_decoding(translator):
    greedy = _length_normalized_log_probability(translator, translator.translate(SOURCES, build_sampler(1)).numpy())
    for beam_size in (2, 4):
        beams = translator.translate(SOURCES, build_sampler(beam_size)).numpy()
        scores = _length_normalized_log_probability(translator, beams)
        assert np.all(scores >= greedy - 1e-4), (beam_size, scores, greedy)
        assert np.any(scores > greedy + 0.1)  # a better translation found, not greedy's returned


def test_after_the_end_token_only_padding_follows(translator):
    for beam_size in (1, 3):
        tokens = translator.translate(SOURCES, build_sampler(beam_size), stop_at_end=False).numpy()
        ended = [row for row in tokens if END_ID in row]
        assert 0 < len(ended) < len(tokens)
        for row in ended:
            assert np.all(row[np.flatnonzero(row == END_ID)[0] + 1:] == PAD_ID)


def test_beam_size_must_be_positive():
    with pytest.raises(UserError, match="beam size"):
        build_sampler(0)


def test_decoding_speed_reports_both_decoders(translator):
    speed = decoding_speed(translator, tokens=8, batch_sizes=(1, 4), repeats=2)
    assert speed["tokens"] == 8 and [row["batch_size"] for row in speed["batches"]] == [1, 4]
    for row in speed["batches"]:
        assert row["cached_tokens_per_second"] > 0 and row["uncached_tokens_per_second"] > 0
        assert row["speedup"] == pytest.approx(row["cached_tokens_per_second"] / row["uncached_tokens_per_second"])
    assert decoding_speed(translator, tokens=100, batch_sizes=(1,), repeats=1)["tokens"] == CONFIG.max_length - 1


def test_final_beams_are_ranked_by_length_normalized_score():
    from keras_apps.inference.translation import _best_beams

    short = [START_ID, 7, END_ID, PAD_ID, PAD_ID, PAD_ID]
    longer = [START_ID, 7, 8, 9, 10, END_ID]
    beams = tf.constant([[short, longer]], tf.int32)
    # Raw log-probabilities favour the short beam; per GNMT's length penalty, the long one is better.
    chosen = _best_beams(beams, tf.constant([[-2.0, -2.4]]))
    np.testing.assert_array_equal(chosen.numpy()[0], longer)
    np.testing.assert_array_equal(_best_beams(beams, tf.constant([[-2.0, -4.0]])).numpy()[0], short)


def test_translate_all_gives_each_sentence_its_own_translation_in_the_sentences_order():
    """Sentences are decoded in batches of similar lengths, so out of order; each must come back to its place."""
    sentences = ["three", "a", "fourfour", "to", "b", "sevenxx"]

    def echo(batch):
        return {"translations": tf.strings.upper(batch)}

    assert translate_all(echo, sentences, batch_size=2) == [sentence.upper() for sentence in sentences]
