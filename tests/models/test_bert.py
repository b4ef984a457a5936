import keras
import numpy as np
import pytest

from keras_apps.models.bert import POOLINGS, build_bert_backbone, build_bert_classifier, build_masked_lm
from keras_apps.models.pooling import pool_tokens

SIZE = dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32)


def _inputs(token_ids):
    token_ids = np.asarray(token_ids, "int32")
    return {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": token_ids != 0}


def test_classifier_and_masked_lm_share_one_backbone():
    backbone = build_bert_backbone(60, 16, **SIZE)
    masked_lm = build_masked_lm(backbone, mask_selection_length=3)
    classifier = build_bert_classifier(backbone)
    assert classifier.output.shape == (None, 1)
    ids = np.random.default_rng(0).integers(5, 60, (2, 16))
    logits = masked_lm({**_inputs(ids), "mask_positions": np.array([[1, 2, 3], [4, 5, 6]], "int32")})
    assert logits.shape == (2, 3, 60)
    shared = {id(weight) for weight in backbone.weights}
    assert shared <= {id(weight) for weight in masked_lm.weights}
    assert shared <= {id(weight) for weight in classifier.weights}


def test_masked_lm_output_layer_is_tied_to_the_token_embedding():
    backbone = build_bert_backbone(60, 16, **SIZE)
    masked_lm = build_masked_lm(backbone, mask_selection_length=2)
    # Tied: the head adds only its transform, layer norm and output bias, not a second 60 x 16 matrix.
    head_params = masked_lm.count_params() - backbone.count_params()
    assert head_params == (16 * 16 + 16) + 2 * 16 + 60


def test_the_masked_lm_head_transforms_with_gelu_as_bert_does():
    masked_lm = build_masked_lm(build_bert_backbone(60, 16, **SIZE), mask_selection_length=2)
    assert masked_lm.get_layer("mlm_head").intermediate_activation is keras.activations.gelu


def test_padding_never_changes_the_classifier_output():
    classifier = build_bert_classifier(build_bert_backbone(60, 32, **SIZE))
    ids = np.random.default_rng(1).integers(5, 60, (2, 10))
    padded = np.concatenate([ids, np.zeros((2, 22), "int64")], axis=1)
    np.testing.assert_allclose(
        classifier(_inputs(padded)).numpy(), classifier(_inputs(ids)).numpy(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("pooling", ["mean", "mean-max", "cls"])
def test_both_poolings_give_one_logit_and_ignore_padding(pooling):
    classifier = build_bert_classifier(build_bert_backbone(60, 32, **SIZE), pooling=pooling)
    ids = np.random.default_rng(2).integers(5, 60, (2, 10))
    padded = np.concatenate([ids, np.zeros((2, 6), "int64")], axis=1)
    np.testing.assert_allclose(
        classifier(_inputs(padded)).numpy(), classifier(_inputs(ids)).numpy(), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="pooling"):
        build_bert_classifier(build_bert_backbone(60, 32, **SIZE), pooling="sum")


def _linear(dense, x):
    return np.asarray(x) @ dense.kernel.numpy() + dense.bias.numpy()


def test_the_backbone_has_the_shape_asked_for():
    asked = dict(vocabulary_size=60, max_sequence_length=24, num_layers=2, num_heads=4, hidden_dim=16,
                 intermediate_dim=40, dropout=0.3)
    backbone = build_bert_backbone(60, 24, num_layers=2, num_heads=4, hidden_dim=16, intermediate_dim=40, dropout=0.3)
    config = backbone.get_config()
    assert {key: config[key] for key in asked} == asked


@pytest.mark.parametrize("pooling", POOLINGS)
def test_the_logit_reads_the_pooling_asked_for(pooling):
    backbone = build_bert_backbone(60, 16, **SIZE)
    classifier = build_bert_classifier(backbone, pooling=pooling, dropout=0.5)
    assert classifier.get_layer("dropout").rate == 0.5
    ids = np.random.default_rng(3).integers(5, 60, (2, 16))
    ids[0, 9:] = 0
    inputs = _inputs(ids)
    outputs = backbone(inputs)
    pooled = (outputs["pooled_output"] if pooling == "cls"
              else pool_tokens(outputs["sequence_output"], inputs["padding_mask"], pooling))
    # Dropout is off outside training, and the output is a logit: the pooled vector times the kernel, plus the bias.
    np.testing.assert_allclose(classifier(inputs).numpy(), _linear(classifier.get_layer("logit"), pooled),
                               rtol=1e-5, atol=1e-6)
