"""Cached generation gives the tokens uncached generation gives, within and beyond the context."""

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.inference.text_generation import (TextGenerator, build_sampler, decoding_tokens_per_second,
                                                  recorded_sampler, reseed, sampling_settings)
from keras_apps.models.gpt import GPTConfig, build_gpt

CONFIG = GPTConfig(vocabulary_size=13, context_length=10, num_layers=2, num_heads=2, hidden_dim=16, dropout=0.0)


@pytest.fixture(scope="module")
def model():
    """A GPT with large random weights, so that its greedy choices differ from step to step."""
    model = build_gpt(CONFIG)
    generator = np.random.default_rng(0)
    model.set_weights([generator.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def test_the_generated_tokens_vary(model):
    tokens = TextGenerator(model, build_sampler("greedy", 13)).generate([1, 2, 3], 9).numpy()
    assert tokens.shape == (9,) and len(set(tokens)) > 2


@pytest.mark.parametrize("prompt_length, new_tokens", [(1, 9), (3, 8), (4, 30), (10, 12), (25, 7)])
def test_cached_and_uncached_greedy_generation_are_identical(model, prompt_length, new_tokens):
    generator = TextGenerator(model, build_sampler("greedy", 13))
    prompt = np.arange(prompt_length) % 13
    cached = generator.generate(prompt, new_tokens).numpy()
    uncached = generator.generate(prompt, new_tokens, use_cache=False).numpy()
    assert cached.shape == (new_tokens,)
    np.testing.assert_array_equal(cached, uncached)


@pytest.mark.parametrize("use_cache", [True, False])
def test_rows_decoded_side_by_side_are_the_rows_decoded_alone(model, use_cache):
    generator = TextGenerator(model, build_sampler("greedy", 13))
    prompts = np.array([[1, 2, 3], [4, 4, 4], [12, 0, 7]], np.int32)
    batch = generator.generate_batch(prompts, 25, use_cache=use_cache).numpy()  # 25 new tokens: three chunks
    assert batch.shape == (3, 25) and len({tuple(row) for row in batch}) == 3
    for prompt, row in zip(prompts, batch):
        np.testing.assert_array_equal(row, generator.generate(prompt, 25, use_cache=use_cache))


def test_each_token_within_the_context_is_the_full_models_argmax(model):
    generator = TextGenerator(model, build_sampler("greedy", 13))
    tokens = [4, 7]
    generated = generator.generate(tokens, 8).numpy()  # 2 + 8 tokens: one context, no re-read
    for token in generated:
        assert token == int(np.argmax(model(np.array([tokens], np.int32))[0, -1]))
        tokens.append(token)


def test_past_the_first_context_each_token_is_the_argmax_over_the_kept_half_context(model):
    """Past the first context, each chunk restarts from the last `context_length // 2` tokens (module docstring)."""
    context = CONFIG.context_length
    generated = TextGenerator(model, build_sampler("greedy", 13)).generate([4, 7], 2 * context + 2).numpy()
    tokens, produced = [4, 7], 0
    while produced < len(generated):
        keep = min(len(tokens), context if produced == 0 else context // 2)
        window = tokens[len(tokens) - keep:]
        for _ in range(min(context + 1 - keep, len(generated) - produced)):
            window.append(int(np.argmax(model(np.array([window], np.int32))[0, -1])))
            assert generated[produced] == window[-1], f"token {produced}"
            tokens.append(window[-1])
            produced += 1


def test_a_prompt_longer_than_the_context_keeps_its_end(model):
    generator = TextGenerator(model, build_sampler("greedy", 13))
    tail = [5, 1, 2, 8, 3, 3, 9, 0, 11, 6]
    np.testing.assert_array_equal(generator.generate([7] * 40 + tail, 5), generator.generate(tail, 5))


def test_the_loop_runs_in_a_graph_with_tensor_lengths(model):
    generator = TextGenerator(model, build_sampler("greedy", 13))
    graph_generate = tf.function(lambda prompt, count: generator.generate(prompt, count))
    for count in (0, 3, 17):
        np.testing.assert_array_equal(
            graph_generate(tf.constant([1, 2], tf.int32), tf.constant(count)), generator.generate([1, 2], count)
        )


@pytest.mark.parametrize("name", ["top_k", "top_p", "random"])
def test_a_reseeded_sampler_repeats_itself(model, name):
    sampler = build_sampler(name, 13, seed=1)
    generator = TextGenerator(model, sampler)
    runs = []
    for seed in (3, 3, 4):
        reseed(sampler, seed)
        runs.append(generator.generate([1], 20, temperature=2.0).numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_a_tiny_temperature_samples_greedily_and_a_huge_one_spreads_the_choices(model):
    greedy = TextGenerator(model, build_sampler("greedy", 13)).generate([1], 30).numpy()
    sampler = build_sampler("random", 13, seed=1)
    generator = TextGenerator(model, sampler)
    distinct = {}
    for temperature in (1e-4, 1.0, 100.0):
        reseed(sampler, 5)
        tokens = generator.generate([1], 30, temperature=temperature).numpy()
        distinct[temperature] = len(set(tokens))
        if temperature == 1e-4:  # two logits here differ by 0.0025: 1e-3 would not always pick the larger
            np.testing.assert_array_equal(tokens, greedy)
    assert distinct[100.0] > distinct[1.0]


def test_an_unknown_sampler_is_refused():
    with pytest.raises(UserError, match="unknown sampler 'beam'"):
        build_sampler("beam", 13)


def test_a_copy_of_an_export_samples_with_the_settings_the_export_recorded():
    """A compressed or tuned copy of an export built its sampler from the sampler's name alone: an export made
    with --top-k 1 (greedy) had copies that drew from 40 tokens."""
    assert recorded_sampler({"sampler": "top_k", "top_k": 1, "top_p": 0.5}, 100).k == 1
    assert recorded_sampler({"sampler": "top_p", "top_k": 1, "top_p": 0.5}, 100).p == 0.5
    assert recorded_sampler({"sampler": "top_k"}, 100).k == 40  # an export made before they were recorded


def test_a_sampler_setting_the_chosen_sampler_does_not_use_is_refused():
    with pytest.raises(UserError, match=r"^--top-k is for the top_k sampler, not --sampler greedy: leave it out"):
        sampling_settings("greedy", top_k=5, top_p=None)
    with pytest.raises(UserError, match="--top-p is for the top_p sampler, not --sampler top_k"):
        sampling_settings("top_k", top_k=None, top_p=0.5)
    assert sampling_settings("top_p", top_k=None, top_p=0.5) == {"sampler": "top_p", "top_k": 40, "top_p": 0.5}
    assert sampling_settings("random", top_k=None, top_p=None) == {"sampler": "random", "top_k": 40, "top_p": 0.9}


def test_the_decoding_speed_counts_the_tokens_of_every_row(model, monkeypatch):
    """The compression report's tokens per second at batch 64 counts the 64 rows' tokens, not one row's."""
    import statistics

    monkeypatch.setattr(statistics, "median", lambda seconds: 1.0)  # each timed call: one second
    assert decoding_tokens_per_second(model, new_tokens=3, repeats=1, batch_size=4) == 4 * 3


def test_a_prompt_as_long_as_the_context_is_read_whole(model):
    """The first chunk conditions on the last `context_length` tokens of the prompt: all of them, not one fewer."""
    prompt = [5, 1, 2, 8, 3, 3, 9, 0, 11, 6][: CONFIG.context_length]
    generated = TextGenerator(model, build_sampler("greedy", 13)).generate(prompt, 1).numpy()
    assert generated[0] == int(np.argmax(model(np.array([prompt], np.int32))[0, -1]))
