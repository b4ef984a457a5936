import math

import keras
import numpy as np
import pytest

from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference import evaluation
from keras_apps.preference.models import ResponseLogProbability
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID, WordPieceText

TEXT = "A wonderful film with wonderful actors.\nThe plot was thin and the acting was worse than awful."


def _samples():
    prompts = [np.array([NEWLINE_ID, 5, 6], np.int32), np.array([NEWLINE_ID, 7], np.int32)]
    return evaluation.Samples(prompts, np.array([[8, 9], [10, PAD_ID]], np.int32))


def test_samples_put_prompt_and_response_together_and_mark_the_response():
    samples = _samples()
    np.testing.assert_array_equal(samples.sequences(), [[NEWLINE_ID, 5, 6, 8, 9], [NEWLINE_ID, 7, 10, 0, 0]])
    np.testing.assert_array_equal(samples.response_mask(), [[0, 0, 0, 1, 1], [0, 0, 1, 0, 0]])
    assert samples.select([1]).prompts[0].tolist() == [NEWLINE_ID, 7]


def test_a_response_ends_at_its_first_line_break():
    got = evaluation.ended_at_line_break(np.array([[5, NEWLINE_ID, 6, NEWLINE_ID], [5, 6, 7, 8]]))
    np.testing.assert_array_equal(got, [[5, NEWLINE_ID, PAD_ID, PAD_ID], [5, 6, 7, 8]])


def test_prompts_are_a_line_break_and_two_to_eight_subwords_of_each_text():
    tokenizer = WordPieceText.from_text(TEXT, size=150)
    texts = [TEXT.split("\n")[1]] * 40
    prompts = evaluation.review_prompts(tokenizer, texts, seed=1)
    whole = tokenizer.tokenize(texts[0]).numpy()
    assert {len(prompt) - 1 for prompt in prompts} == set(range(2, 9))
    assert all(prompt[0] == NEWLINE_ID and prompt[1:].tolist() == whole[: len(prompt) - 1].tolist()
               for prompt in prompts)


def test_sampled_responses_continue_each_prompt_and_repeat_with_the_seed(capsys):
    keras.utils.set_random_seed(0)
    model = build_gpt(GPTConfig(vocabulary_size=12, context_length=16, num_layers=1, num_heads=2, hidden_dim=8,
                                dropout=0.0))
    prompts = [np.array([NEWLINE_ID, 4], np.int32), np.array([NEWLINE_ID, 4, 5, 6], np.int32)] * 3
    first = evaluation.sample_responses(model, prompts, 5, seed=3, batch_size=2)
    assert first.responses.shape == (6, 5) and first.prompts == prompts
    assert "6/6" in capsys.readouterr().out  # the progress of every response, as `fit` shows it
    np.testing.assert_array_equal(evaluation.sample_responses(model, prompts, 5, seed=3, batch_size=2).responses,
                                  first.responses)
    assert not np.array_equal(first.responses[0], first.responses[2])  # random sampling, not one fixed answer
    log_probs = evaluation.log_probabilities(model, first)
    direct = ResponseLogProbability()(model(first.sequences()), first.sequences(), first.response_mask()).numpy()
    np.testing.assert_allclose(log_probs, direct, rtol=1e-5)
    assert evaluation.kl_estimate(log_probs, log_probs) == 0.0


def test_a_sampler_used_again_decodes_every_batch_in_one_shape_so_it_compiles_once():
    keras.utils.set_random_seed(0)
    model = build_gpt(GPTConfig(vocabulary_size=12, context_length=16, num_layers=1, num_heads=2, hidden_dim=8,
                                dropout=0.0))
    sampler = evaluation.ResponseSampler(model, batch_size=4)
    short, long = np.array([NEWLINE_ID, 4], np.int32), np.array([NEWLINE_ID, 4, 5], np.int32)
    first = sampler([short] * 5 + [long], 3, seed=1)  # batches of 4, 1 (filled up to 4) and 1
    assert first.responses.shape == (6, 3)
    sampler([long] * 3, 3, seed=2)
    assert sampler.generator._fill_functions[True].experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(sampler([short] * 5 + [long], 3, seed=1).responses, first.responses)


def test_best_of_picks_each_prompts_highest_reward_among_its_first_n():
    scores = [1.0, 5.0, 9.0, 2.0, 0.0, 3.0, 1.0, 7.0]  # two prompts, four samples each
    assert evaluation.best_of(scores, 4, 2).tolist() == [1, 5]
    assert evaluation.best_of(scores, 4, 4).tolist() == [2, 7]


def test_best_of_n_kl_by_hand():
    assert evaluation.best_of_n_kl(1) == 0.0
    assert evaluation.best_of_n_kl(16) == pytest.approx(math.log(16) - 15 / 16)


def test_a_point_of_the_frontier_averages_rewards_and_judgments():
    point = evaluation.point("best-of-N", n=4, reward=[1.0, 3.0], judge=[0.5, 1.0], kl=0.64)
    assert point == {"method": "best-of-N", "n": 4, "reward": 2.0, "judge": 0.75, "kl": 0.64}
