import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.models.bert import build_bert_backbone
from keras_apps.text.vocabulary import learn_vocabulary
from keras_apps.training.config import TrainingConfig
from keras_apps.text_classification.pretraining import pretrain_masked_lm
from keras_apps.training.run_directory import RunDirectory
from tests.conftest import TINY_REVIEWS

TEXTS = [text for text, _ in TINY_REVIEWS]
EPOCHS = 20


def test_masked_lm_pretraining_learns_and_returns_the_trained_backbone(tmp_path):
    keras.utils.set_random_seed(0)
    vocabulary = learn_vocabulary(TEXTS * 20, 100)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    built = []

    def build_backbone():
        built.append(build_bert_backbone(len(vocabulary), 32, num_layers=1, num_heads=2, hidden_dim=32,
                                         intermediate_dim=64, dropout=0.0))
        return built[-1]

    config = TrainingConfig(epochs=EPOCHS, batch_size=8, learning_rate=3e-3, lr_schedule="constant")
    result = pretrain_masked_lm(
        build_backbone, tokenizer, 32, TEXTS * 8, TEXTS * 4, config=config,  # 4 maskings: ~150 tokens to score
        run_directory=RunDirectory.create("test", tmp_path / "run"), strategy=tf.distribute.get_strategy(),
    )
    assert result.backbone is built[-1] and result.epochs == EPOCHS
    history = RunDirectory(tmp_path / "run").read_history()
    assert "val_masked_accuracy" in history[-1]
    # Eight reviews seen many times: the masked tokens become more predictable than the first epoch left them.
    assert history[-1]["val_loss"] < 0.85 * history[0]["val_loss"]
    assert result.masked_accuracy > 0.15
    assert np.isfinite(result.train_seconds) and result.train_examples == EPOCHS * 8 * 8


class Stop(Exception):
    """Raised by a stand-in `masked_lm_dataset` once it holds what pre-training would batch."""


def test_a_masked_lm_window_has_fifteen_percent_of_its_tokens_selected(monkeypatch):
    from keras_apps.text_classification import pretraining

    handed = []

    def masked_lm_dataset(texts, tokenize, frame, mask_generator, *args, **kwargs):
        handed.append((tokenize, frame, mask_generator))
        raise Stop

    monkeypatch.setattr(pretraining, "masked_lm_dataset", masked_lm_dataset)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=learn_vocabulary(TEXTS * 20, 100), lowercase=True)
    with pytest.raises(Stop):
        pretrain_masked_lm(None, tokenizer, 32, TEXTS, TEXTS, config=TrainingConfig(), run_directory=None,
                           strategy=None)
    tokenize, frame, mask_generator = handed[0]
    windows = frame(tf.ragged.constant(tokenize([" ".join(TEXTS)] * 16)))  # each a full window of 30 real tokens
    masked = mask_generator(windows["token_ids"])
    assert masked["mask_positions"].shape == (16, round(0.15 * 32))
    assert 0.05 < float(tf.reduce_sum(masked["mask_weights"])) / (16 * 30) < 0.25
