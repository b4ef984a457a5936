import numpy as np
import pytest

from keras_apps.errors import UserError
from keras_apps.models import build_bert_backbone, build_bert_classifier, build_masked_lm
from keras_apps.text_classification.backbones import load_backbone, pretraining_record, save_backbone
from keras_apps.text.vocabulary import build_tokenizer, learn_vocabulary
from tests.conftest import TINY_REVIEWS

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


def test_padding_never_changes_the_classifier_output():
    classifier = build_bert_classifier(build_bert_backbone(60, 32, **SIZE))
    ids = np.random.default_rng(1).integers(5, 60, (2, 10))
    padded = np.concatenate([ids, np.zeros((2, 22), "int64")], axis=1)
    np.testing.assert_allclose(
        classifier(_inputs(padded)).numpy(), classifier(_inputs(ids)).numpy(), rtol=1e-5, atol=1e-6
    )


def test_saved_backbone_reloads_with_its_tokenizer_and_weights(tmp_path):
    vocabulary = learn_vocabulary([text for text, _ in TINY_REVIEWS] * 20, 100)
    backbone = build_bert_backbone(len(vocabulary), 16, **SIZE)
    save_backbone(backbone, build_tokenizer(vocabulary), tmp_path / "backbone", pretraining={"epochs": 3})
    loaded, tokenizer = load_backbone(tmp_path / "backbone")
    assert pretraining_record(tmp_path / "backbone") == {"epochs": 3} and pretraining_record(tmp_path) == {}
    assert tokenizer.get_vocabulary() == vocabulary
    ids = np.random.default_rng(0).integers(5, len(vocabulary), (2, 16))
    np.testing.assert_allclose(
        loaded(_inputs(ids))["pooled_output"].numpy(), backbone(_inputs(ids))["pooled_output"].numpy(), rtol=1e-6
    )
    # Pre-trained without dropout, fine-tuned with it: the override changes the setting, not the weights.
    with_dropout, _ = load_backbone(tmp_path / "backbone", dropout=0.3)
    assert with_dropout.get_config()["dropout"] == 0.3 and loaded.get_config()["dropout"] == 0.1
    for reloaded, original in zip(with_dropout.get_weights(), backbone.get_weights()):
        np.testing.assert_array_equal(reloaded, original)


def test_a_preset_that_cannot_be_loaded_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="not a saved backbone"):
        load_backbone(tmp_path)
    with pytest.raises(UserError, match="cannot load the keras-hub preset 'no_such_preset'"):
        load_backbone("no_such_preset")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot load the backbone saved in"):
        load_backbone(tmp_path)


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
