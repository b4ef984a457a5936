import numpy as np
import pytest

from keras_apps.compress.language_model import in_bfloat16, markdown_table, quantized
from keras_apps.errors import UserError
from keras_apps.models.gpt import GPTConfig, build_gpt

CONFIG = GPTConfig(vocabulary_size=40, context_length=16, num_layers=2, num_heads=2, hidden_dim=32, dropout=0.0)


def float_and_copy():
    model = build_gpt(CONFIG)
    copy = build_gpt(CONFIG)
    copy.set_weights(model.get_weights())
    return model, copy


@pytest.mark.parametrize("mode, tolerance", [("int8", 0.02), ("int4", 0.2)])
def test_quantized_weights_keep_the_logits_close_to_float_s(mode, tolerance):
    model, copy = float_and_copy()
    layers = quantized(copy, mode)
    assert len(layers) == 2 * 6  # per block: query, key, value, attention output, two feed-forward layers
    assert all(layer.split("/")[-1] in {"query", "key", "value", "attention_output", "feedforward_intermediate_dense",
                                        "feedforward_output_dense"} for layer in layers)
    tokens = np.random.default_rng(0).integers(0, 40, (4, 16))
    reference, answer = np.asarray(model(tokens)), np.asarray(copy(tokens))
    error = np.abs(answer - reference).max() / np.abs(reference).max()
    assert 0 < error < tolerance  # changed, and close
    assert (answer.argmax(-1) == reference.argmax(-1)).mean() > 0.9


def test_a_bfloat16_copy_holds_and_computes_everything_in_bfloat16_close_to_float():
    model = build_gpt(CONFIG)
    copy = in_bfloat16(model)
    assert {weight.dtype for weight in copy.weights} == {"bfloat16"}
    tokens = np.random.default_rng(0).integers(0, 40, (4, 16))
    reference, answer = np.asarray(model(tokens)), np.asarray(copy(tokens), np.float32)
    assert np.abs(answer - reference).max() / np.abs(reference).max() < 0.05
    assert np.asarray(model(tokens)).dtype == np.float32  # the original is left as it was


def test_an_unknown_mode_is_one_line():
    _, copy = float_and_copy()
    with pytest.raises(UserError, match="no 'int2' quantization for a GPT; choose from int8, int4"):
        quantized(copy, "int2")


def test_the_table_reads_each_variant_against_float32():
    rows = [{"variant": "float32", "compute_dtype": "bfloat16", "size_bytes": 4000, "gzip_bytes": 3600,
             "validation_loss": 1.5, "decoding_tokens_per_second": 800.0},
            {"variant": "int8", "compute_dtype": "bfloat16", "size_bytes": 1000, "gzip_bytes": 800,
             "validation_loss": 1.51, "decoding_tokens_per_second": 2400.0}]
    table = markdown_table("GPT", rows)
    assert "| int8 | bfloat16 | 1.0 | 25% | 0.8 | 1.5100 | +0.0100 | 2,400 | 3.00x |" in table
