import numpy as np
import pytest

from keras_apps.compress.language_model import calibrated
from keras_apps.models.gpt import GPTConfig, build_gpt

CONFIG = GPTConfig(vocabulary_size=40, context_length=16, num_layers=2, num_heads=2, hidden_dim=32, dropout=0.0)


class LetterTokenizer:
    def tokenize(self, text):
        return np.array([ord(letter) - ord("a") for letter in text], np.int32)


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_a_calibrated_copy_computes_in_float32_with_4_bit_kernels_close_to_float_s(mode):
    model = build_gpt(CONFIG)
    text = "".join(chr(ord("a") + i) for i in np.random.default_rng(0).integers(0, 26, 2000))
    copy = calibrated(model, mode, text, LetterTokenizer(), windows=8)
    kernels = [layer for layer in copy._flatten_layers() if getattr(layer, "quantization_mode", None)]
    assert len(kernels) == 2 * 6 and {layer.quantization_mode for layer in kernels} == {mode}
    assert all(getattr(layer, f"is_{mode}_calibrated") for layer in kernels)
    assert {layer.dtype_policy.compute_dtype for layer in kernels} == {"float32"}
    tokens = np.random.default_rng(1).integers(0, 26, (4, 16))
    reference, answer = np.asarray(model(tokens)), np.asarray(copy(tokens))
    assert 0 < np.abs(answer - reference).max() / np.abs(reference).max() < 0.2
    assert not any(getattr(layer, "quantization_mode", None) for layer in model._flatten_layers())  # untouched
