"""The weight formats any Keras model of the suite takes (`keras_apps.compress.variants`), on a tiny GPT."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.compress.variants import (
    export_variants, matmul_compute_dtype, plain_variant, quantized, with_dtype_policy,
)
from keras_apps.errors import UserError
from keras_apps.export.saved_model import export_metadata, export_model
from keras_apps.inference.serving import classifier_endpoint
from keras_apps.models.convnet import build_convnet
from keras_apps.models.gpt import GPTConfig, build_gpt

CONFIG = GPTConfig(vocabulary_size=40, context_length=16, num_layers=2, num_heads=2, hidden_dim=32, dropout=0.0)
IMAGES = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")


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


@pytest.mark.parametrize("policy", ["bfloat16", "float16"])
def test_a_16_bit_copy_holds_and_computes_everything_in_16_bits_close_to_float(policy):
    model = build_gpt(CONFIG)
    copy = with_dtype_policy(model, policy)
    assert {weight.dtype for weight in copy.weights} == {policy}
    tokens = np.random.default_rng(0).integers(0, 40, (4, 16))
    reference, answer = np.asarray(model(tokens)), np.asarray(copy(tokens), np.float32)
    assert np.abs(answer - reference).max() / np.abs(reference).max() < 0.05
    assert np.asarray(model(tokens)).dtype == np.float32  # the original is left as it was


def test_an_unknown_mode_is_one_line():
    _, copy = float_and_copy()
    with pytest.raises(UserError, match="no 'int2' quantization here; choose from int8, int4"):
        quantized(copy, "int2")


@pytest.mark.parametrize("policy", ["bfloat16", "float16"])
def test_a_16_bit_copy_computes_the_casts_between_its_layers_in_16_bits_too(policy):
    """A classifier's pooling casts its mask to the dtype its tokens' vectors had when it was built (`float32`):
    the copy computes as the copy of the same network built in 16 bits (whose casts are 16-bit), not its mean in
    float32."""
    from keras_apps.models.transformer import build_transformer_classifier
    from keras_apps.training.runner import build_in_precision

    def classifier():
        return build_transformer_classifier(50, 12, embedding_dim=16, num_heads=2, intermediate_dim=16)

    model, native = classifier(), build_in_precision(classifier, policy)
    native.set_weights(model.get_weights())
    tokens = np.random.default_rng(0).integers(1, 50, (4, 12))
    tokens[:, 7:] = 0  # padding, which the pooling's mask leaves out
    np.testing.assert_array_equal(np.asarray(with_dtype_policy(model, policy)(tokens), np.float32),
                                  np.asarray(with_dtype_policy(native, policy)(tokens), np.float32))


@pytest.mark.parametrize("policy", ["bfloat16", "float16"])
def test_a_plain_16_bit_variant_is_in_the_16_bits_asked_for(policy):
    copy, extra = plain_variant(build_gpt(CONFIG), policy)
    assert extra == {}
    assert matmul_compute_dtype(copy) == policy
    assert {weight.dtype for weight in copy.weights} == {policy}


def test_each_row_records_its_own_file_s_size_and_each_copy_its_format(tmp_path):
    """`size_bytes` is the size on disk of the file a row measures, `gzip_bytes` its gzip'd size; a copy's
    `export.json` names the format it is in."""
    keras.utils.set_random_seed(0)
    model = build_convnet(filters=(2,), dropout=0.0)
    export = export_model(model, tmp_path / "export", {"serving_default": classifier_endpoint(model, IMAGES)},
                          metadata={"task": "test"})
    rows = export_variants(
        export, tmp_path / "report", ["float16"], make=plain_variant,
        endpoints=lambda model: {"serving_default": classifier_endpoint(model, IMAGES)},
        score=lambda model: {}, table=lambda rows: "### tiny\n", describe=lambda row: "measured",
        export={"metadata": {"task": "test"}})
    files = {"float32": tmp_path / "report" / "float32.keras", "float16": tmp_path / "report" / "float16" / "1"}
    assert [row["variant"] for row in rows] == list(files)
    for row in rows:
        path = files[row["variant"]]
        assert row["size_bytes"] == (path / "model.keras" if path.is_dir() else path).stat().st_size
        assert 0 < row["gzip_bytes"] != row["size_bytes"]
    assert export_metadata(files["float16"])["quantization"] == "float16"
