import numpy as np
import pytest

from keras_apps.errors import UserError
from keras_apps.models.bert import build_bert_backbone
from keras_apps.text.vocabulary import build_tokenizer, learn_vocabulary
from keras_apps.text_classification.backbones import load_backbone, pretraining_record, save_backbone
from tests.conftest import TINY_REVIEWS

SIZE = dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32)


def _inputs(token_ids):
    token_ids = np.asarray(token_ids, "int32")
    return {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": token_ids != 0}


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


def test_a_tokenizer_larger_than_the_backbones_embedding_is_refused(tmp_path):
    """Its extra ids would fail mid-training on a CPU, and read rows of zeros on a GPU."""
    vocabulary = learn_vocabulary([text for text, _ in TINY_REVIEWS] * 20, 100)
    save_backbone(build_bert_backbone(len(vocabulary) - 10, 16, **SIZE), build_tokenizer(vocabulary),
                  tmp_path / "backbone")
    with pytest.raises(UserError, match=f"has {len(vocabulary)} tokens, more than the {len(vocabulary) - 10} its"):
        load_backbone(tmp_path / "backbone")
