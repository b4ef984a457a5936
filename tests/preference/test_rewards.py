"""The rewards a policy is tuned against: a learned reward model on tokens, and a classifier's log-odds of a
positive review on the samples' text."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_apps.preference import rewards
from keras_apps.preference.evaluation import Samples
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID, WordPieceText

TEXT = "A wonderful film with wonderful actors.\nThe plot was thin and the acting was worse than awful."


def _samples(tokenizer, *pairs):
    prompts = [np.concatenate([[NEWLINE_ID], tokenizer.tokenize(prompt).numpy()]).astype(np.int32)
               for prompt, _ in pairs]
    width = max(len(tokenizer.tokenize(response).numpy()) for _, response in pairs) + 2
    responses = np.full((len(pairs), width), PAD_ID, np.int32)
    for row, (_, response) in enumerate(pairs):
        tokens = [*tokenizer.tokenize(response).numpy(), NEWLINE_ID]
        responses[row, : len(tokens)] = tokens
    return Samples(prompts, responses)


def test_the_judge_reads_each_samples_text_without_special_tokens():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    seen = []

    def judge(texts):
        seen.extend(text.decode("utf-8") for text in texts.numpy())
        return {"probability": tf.fill([len(seen)], 0.25)}

    got = rewards.judged(judge, tokenizer, _samples(tokenizer, ("the plot", "was thin")))
    assert seen == [" the plot was thin"] and got.tolist() == [0.25]


def test_a_classifiers_reward_is_its_log_odds_of_a_positive_review_clipped_at_the_ends():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    probabilities = {" the plot was thin": 0.2, " a wonderful film": 1.0, " the acting was worse": 0.5}

    def classifier(texts):
        return {"probability": tf.constant([probabilities[text.decode("utf-8")] for text in texts.numpy()])}

    samples = _samples(tokenizer, ("the plot", "was thin"), ("a wonderful", "film"), ("the acting", "was worse"))
    reward = rewards.ClassifierReward(classifier, tokenizer)(samples)
    floor = rewards.PROBABILITY_FLOOR
    np.testing.assert_allclose(reward, [np.log(0.2 / 0.8), np.log((1 - floor) / floor), 0.0], rtol=1e-4, atol=1e-6)


def test_a_learned_reward_is_the_models_score_of_each_samples_tokens():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    tokens = keras.Input((None,), dtype="int32")
    length = keras.Model(tokens, ops.sum(ops.cast(ops.not_equal(tokens, PAD_ID), "float32"), axis=1))
    samples = _samples(tokenizer, ("the plot", "was thin"), ("a", "wonderful film with wonderful actors"))
    reward = rewards.LearnedReward(length)(samples)
    assert reward.tolist() == pytest.approx((samples.sequences() != PAD_ID).sum(axis=1).tolist())
