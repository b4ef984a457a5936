"""The rewards a policy is tuned against: a learned reward model on tokens, and a classifier's log-odds of a
positive review on the samples' text."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference import rewards
from keras_apps.preference.evaluation import Samples, ended_at_line_break
from keras_apps.preference.models import build_reward_model
from keras_apps.training.runner import build_in_precision
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID, WordPieceText

CONTEXT = 32  # tokens the tiny reward model reads
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
    read = (samples.sequences() != PAD_ID).sum(axis=1) - 1  # all but each response's closing [NL]
    assert reward.tolist() == pytest.approx(read.tolist())


def test_rewards_of_many_samples_are_read_in_batches_each_sample_once():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    pairs = [("the plot", "was thin"), ("a wonderful", "film"), ("the acting", "was worse"), ("a", "wonderful film")]
    samples = _samples(tokenizer, *pairs)
    tokens = keras.Input((None,), dtype="int32")
    length = keras.Model(tokens, ops.sum(ops.cast(ops.not_equal(tokens, PAD_ID), "float32"), axis=1))
    np.testing.assert_array_equal(rewards.LearnedReward(length, batch_size=3)(samples),
                                  rewards.LearnedReward(length)(samples))
    calls = []

    def judge(texts):
        calls.append(len(texts))
        return {"probability": tf.fill([len(texts)], 0.25)}

    assert rewards.judged(judge, tokenizer, samples, batch_size=3).tolist() == [0.25] * 4 and calls == [3, 1]


def _reward_model():
    """A tiny reward model in mixed bfloat16, as `python -m tasks.rlhf reward` trains one; the same weights each
    call."""
    keras.utils.set_random_seed(0)
    config = GPTConfig(vocabulary_size=150, context_length=CONTEXT, num_layers=1, num_heads=2, hidden_dim=16,
                       dropout=0.0)
    return build_in_precision(lambda: build_reward_model(build_gpt(config)), "mixed_bfloat16")


def _random_samples(rng, prompt_length, new_tokens):
    prompts = [np.concatenate([[NEWLINE_ID], rng.integers(5, 150, prompt_length)]).astype(np.int32)
               for _ in range(8)]
    return Samples(prompts, rng.integers(5, 150, (8, new_tokens)).astype(np.int32))


def test_a_samples_learned_reward_does_not_depend_on_the_lengths_scored_before_it():
    rng = np.random.default_rng(0)
    earlier, samples = _random_samples(rng, 3, 6), _random_samples(rng, 5, 9)
    alone = rewards.LearnedReward(_reward_model())(samples)
    reward = rewards.LearnedReward(_reward_model())
    reward(earlier)
    np.testing.assert_array_equal(reward(samples), alone)


def test_a_learned_reward_scores_a_response_that_ended_at_a_line_break_as_the_words_before_it():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    prompt = np.concatenate([[NEWLINE_ID], tokenizer.tokenize("the plot").numpy()]).astype(np.int32)
    words = [*tokenizer.tokenize("was thin").numpy()]
    ended = ended_at_line_break(np.array([[*words, NEWLINE_ID, *words]], np.int32))[0]
    unended = np.full_like(ended, PAD_ID)
    unended[: len(words)] = words
    samples = Samples([prompt, prompt], np.stack([ended, unended]))
    reward = rewards.LearnedReward(_reward_model())(samples)
    assert reward[0] == reward[1]


def test_a_learned_reward_is_what_the_reward_models_export_scores_for_the_samples_text():
    from keras_apps.inference.serving import reward_endpoint

    tokenizer, model = WordPieceText.from_text(TEXT, size=150), _reward_model()
    samples = _samples(tokenizer, ("the plot", "was thin"), ("a wonderful", "film with wonderful"))
    score, signature = reward_endpoint(model, tokenizer, CONTEXT)
    exported = tf.function(score, input_signature=signature)(texts=tokenizer.detokenize(samples.sequences()))
    np.testing.assert_array_equal(rewards.LearnedReward(model)(samples), exported["reward"].numpy())


def test_a_sample_longer_than_the_reward_models_context_is_scored_on_its_first_tokens():
    rng = np.random.default_rng(0)
    long = _random_samples(rng, 20, CONTEXT)  # [NL], 20 prompt tokens and 32 response tokens: 53 in all
    cut = Samples(long.prompts, long.responses[:, : CONTEXT - 21])
    reward = rewards.LearnedReward(_reward_model())
    np.testing.assert_array_equal(reward(long), reward(cut))


def test_the_reward_export_scores_a_review_typed_otherwise_as_the_same_review_typed_plainly():
    """The reward model learned cleaned reviews: a text pasted from a page's source, or typed on a phone, is
    scored as the same text typed plainly."""
    from keras_apps.inference.serving import reward_endpoint

    tokenizer, model = WordPieceText.from_text(TEXT, size=150), _reward_model()
    score, signature = reward_endpoint(model, tokenizer, CONTEXT)
    score = tf.function(score, input_signature=signature)
    typed = ["A wonderful&lt;br /&gt;film with wonderful actors\u2026", "The plot was\u2009thin &amp; awful"]
    plain = ["A wonderful film with wonderful actors...", "The plot was thin & awful"]
    np.testing.assert_array_equal(score(texts=tf.constant(typed))["reward"].numpy(),
                                  score(texts=tf.constant(plain))["reward"].numpy())
