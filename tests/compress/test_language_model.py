import numpy as np
import pytest
import tensorflow as tf

from keras_apps.compress.language_model import calibrated
from keras_apps.export.saved_model import export_model
from keras_apps.models.gpt import GPTConfig, build_gpt
from tests.conftest import run_python

CONFIG = GPTConfig(vocabulary_size=40, context_length=16, num_layers=2, num_heads=2, hidden_dim=32, dropout=0.0)


class LetterTokenizer:
    def tokenize(self, text):
        return np.array([ord(letter) - ord("a") for letter in text], np.int32)


TEXT = "".join(chr(ord("a") + i) for i in np.random.default_rng(0).integers(0, 26, 2000))


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_a_calibrated_copy_computes_in_float32_with_4_bit_kernels_close_to_float_s(mode):
    model = build_gpt(CONFIG)
    copy = calibrated(model, mode, TEXT, LetterTokenizer(), windows=8)
    kernels = [layer for layer in copy._flatten_layers() if getattr(layer, "quantization_mode", None)]
    assert len(kernels) == 2 * 6 and {layer.quantization_mode for layer in kernels} == {mode}
    assert all(getattr(layer, f"is_{mode}_calibrated") for layer in kernels)
    assert {layer.dtype_policy.compute_dtype for layer in kernels} == {"float32"}
    tokens = np.random.default_rng(1).integers(0, 26, (4, 16))
    reference, answer = np.asarray(model(tokens)), np.asarray(copy(tokens))
    assert 0 < np.abs(answer - reference).max() / np.abs(reference).max() < 0.2
    assert not any(getattr(layer, "quantization_mode", None) for layer in model._flatten_layers())  # untouched


@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_a_calibrated_export_reloads_in_a_fresh_process_with_the_copy_s_logits(mode, tmp_path):
    """Keras alone reloads neither: the quantized layers inside the blocks come back in float, and without their
    zero points (`keras_apps.compress.calibrated`)."""
    copy = calibrated(build_gpt(CONFIG), mode, TEXT, LetterTokenizer(), windows=8)
    logits = tf.function(lambda ids: copy(ids), input_signature=[tf.TensorSpec([None, 16], tf.int32)])
    path = export_model(copy, tmp_path / mode, {"logits": (logits, logits.input_signature)},
                        metadata={"task": "gpt", "quantization": mode})
    tokens = np.random.default_rng(1).integers(0, 26, (4, 16))
    np.save(tmp_path / "tokens.npy", tokens)
    completed = run_python("-c", "import sys, numpy as np; from keras_apps.export.saved_model import "
                           "load_keras_model; _, model = load_keras_model(sys.argv[1], 'gpt'); "
                           "np.save(sys.argv[3], np.asarray(model(np.load(sys.argv[2]))))",
                           str(path), str(tmp_path / "tokens.npy"), str(tmp_path / "logits.npy"))
    assert completed.returncode == 0, completed.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), np.asarray(copy(tokens)), rtol=1e-5, atol=1e-5)
