"""Every builder under a mixed-precision policy computes in 16 bits but hands out float32 logits, so that
losses and softmaxes are computed in float32 (`--precision` on every task)."""

import keras
import numpy as np
import pytest

from keras_apps.models.bert import build_bert_backbone, build_bert_classifier, build_masked_lm
from keras_apps.models.bow import build_bow_classifier
from keras_apps.models.convnet import build_convnet
from keras_apps.models.fusion import build_digit_fusion
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.models.lstm import build_lstm_classifier
from keras_apps.models.mlp import build_mlp
from keras_apps.models.resnet import build_resnet
from keras_apps.models.speech import build_speech_classifier
from keras_apps.models.transformer import build_transformer_classifier
from keras_apps.models.translator import TranslatorConfig, build_translator
from keras_apps.training.runner import build_in_precision


def _bert_backbone():
    return build_bert_backbone(20, 8, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16)


BUILDERS = {
    "convnet": (lambda: build_convnet(filters=(4,)), lambda: np.zeros((2, 28, 28), "uint8")),
    "resnet": (lambda: build_resnet(width=4, blocks_per_stage=1, stages=1), lambda: np.zeros((2, 28, 28), "uint8")),
    "mlp": (lambda: build_mlp(hidden_units=(8,)), lambda: np.zeros((2, 28, 28), "uint8")),
    "bow": (lambda: build_bow_classifier(30, hidden_units=4), lambda: np.ones((2, 30), "float32")),
    "lstm": (lambda: build_lstm_classifier(20, embedding_dim=8, units=4), lambda: np.ones((2, 6), "int32")),
    "transformer": (lambda: build_transformer_classifier(20, 6, embedding_dim=8, num_heads=2),
                    lambda: np.ones((2, 6), "int32")),
    "bert_classifier": (lambda: build_bert_classifier(_bert_backbone()),
                        lambda: {"token_ids": np.ones((2, 8), "int32"), "segment_ids": np.zeros((2, 8), "int32"),
                                 "padding_mask": np.ones((2, 8), "int32")}),
    "masked_lm": (lambda: build_masked_lm(_bert_backbone(), 2),
                  lambda: {"token_ids": np.ones((2, 8), "int32"), "segment_ids": np.zeros((2, 8), "int32"),
                           "padding_mask": np.ones((2, 8), "int32"), "mask_positions": np.ones((2, 2), "int32")}),
    "gpt": (lambda: build_gpt(GPTConfig(vocabulary_size=20, context_length=8, num_layers=1, num_heads=2, hidden_dim=8)),
            lambda: np.ones((2, 8), "int32")),
    "speech": (lambda: build_speech_classifier(num_mel_bins=8, filters=(4,)),
               lambda: {"audio": np.ones((2, 400), "float32"), "lengths": np.array([400, 300], "int32")}),
    "gated_fusion": (lambda: build_digit_fusion("gated", width=8, image_filters=(4,), audio_filters=(4,),
                                                num_mel_bins=8),
                     lambda: {"image": np.ones((2, 28, 28), "uint8"), "audio": np.ones((2, 400), "float32"),
                              "lengths": np.array([400, 300], "int32")}),
    "translator": (lambda: build_translator(TranslatorConfig(
                       source_vocabulary_size=20, target_vocabulary_size=24, max_length=8, num_layers=1,
                       num_heads=2, hidden_dim=8, intermediate_dim=16)),
                   lambda: {"source_ids": np.ones((2, 8), "int32"), "target_ids": np.ones((2, 8), "int32")}),
}


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_compute_in_16_bits_and_return_float32_logits(name, policy):
    build, inputs = BUILDERS[name]
    model = build_in_precision(build, policy)
    assert model.dtype_policy.compute_dtype == policy.split("_")[1]
    assert all(variable.dtype == "float32" for variable in model.weights)
    outputs = model(inputs())
    for output in outputs.values() if isinstance(outputs, dict) else [outputs]:
        assert keras.ops.convert_to_numpy(output).dtype == np.float32
