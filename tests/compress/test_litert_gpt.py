import keras
import numpy as np
import pytest

from keras_apps.compress import litert_gpt
from keras_apps.errors import UserError
from keras_apps.models.gpt import GPTConfig, build_gpt

CONFIG = GPTConfig(vocabulary_size=40, context_length=16, num_layers=2, num_heads=2, hidden_dim=32, dropout=0.0)


@pytest.fixture(scope="module")
def gpt():
    keras.utils.set_random_seed(0)
    return build_gpt(CONFIG)


@pytest.fixture(scope="module")
def converted(gpt):
    return litert_gpt.LiteRTGPT(litert_gpt.convert(gpt, "float32"))


def test_the_forward_pass_converts_and_its_logits_and_loss_are_the_keras_model_s(gpt, converted):
    tokens = np.random.default_rng(1).integers(0, 40, (5, 16)).astype(np.int32)
    assert converted.context_length == 16
    np.testing.assert_allclose(converted.logits(tokens), np.asarray(gpt(tokens)), atol=1e-4)
    next_ids = np.roll(tokens, -1, axis=1)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(next_ids, gpt(tokens))
    windows = [(tokens[:3], next_ids[:3]), (tokens[3:], next_ids[3:])]  # batches of different sizes
    assert converted.loss(windows) == pytest.approx(float(expected), abs=1e-4)


def test_greedy_decoding_on_the_interpreter_continues_as_the_keras_model_does(gpt, converted):
    prompts = np.array([[3, 4], [9, 1]], np.int32)
    tokens = prompts
    for _ in range(6):
        tokens = np.concatenate([tokens, np.asarray(gpt(tokens))[:, -1].argmax(-1)[:, None].astype(np.int32)], 1)
    np.testing.assert_array_equal(converted.greedy(prompts, 6), tokens)
    assert converted.decoding_tokens_per_second(2, new_tokens=4, repeats=1) > 0
    with pytest.raises(ValueError, match="do not fit a window of 16"):
        converted.greedy(prompts, 15)


@pytest.mark.parametrize("variant", ["dynamic-range", "float16", "int8"])
def test_smaller_conversions_stay_close_to_float(gpt, converted, variant):
    text = np.random.default_rng(3).integers(0, 40, 400)
    content = litert_gpt.convert(gpt, variant, litert_gpt.spread_windows(text, 16, 8) if variant == "int8" else None)
    tokens = np.random.default_rng(2).integers(0, 40, (2, 16)).astype(np.int32)
    reference = converted.logits(tokens)
    error = np.abs(litert_gpt.LiteRTGPT(content).logits(tokens) - reference).max() / np.abs(reference).max()
    assert 0 < error < 0.1


def test_calibration_windows_spread_over_the_text_and_int8_needs_them(gpt):
    windows = litert_gpt.spread_windows(np.arange(100), 16, 5)
    assert windows.shape == (5, 16) and windows[0, 0] == 0 and windows[-1, -1] == 99
    np.testing.assert_array_equal(windows[2], np.arange(42, 58))
    with pytest.raises(ValueError, match="10 tokens do not fill a window of 16"):
        litert_gpt.spread_windows(np.arange(10), 16, 5)
    with pytest.raises(UserError, match="needs a representative dataset"):
        litert_gpt.convert(gpt, "int8")
    with pytest.raises(ValueError, match="variant must be one of"):
        litert_gpt.convert(gpt, "int4")


def test_decoding_speed_counts_every_row_s_tokens(monkeypatch):
    """Each timed run decodes `new_tokens` in each of `batch_size` rows: 4 rows of 8 tokens in a second is 32/s."""
    timed = []

    def one_second(predict, inputs, **_):
        timed.append(inputs.shape)
        return 1000.0

    monkeypatch.setattr(litert_gpt, "median_latency_ms", one_second)
    decoder = object.__new__(litert_gpt.LiteRTGPT)  # no interpreter: the decoding loop is never run
    decoder.context_length = 16
    assert decoder.decoding_tokens_per_second(batch_size=4, new_tokens=8) == 32.0
    assert timed == [(4, 1)]  # a one-token prompt in each row
