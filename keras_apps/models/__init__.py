"""Functional model builders: each returns a `keras.Model`, reads no files, flags or globals."""

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

__all__ = [
    "GPTConfig",
    "TranslatorConfig",
    "build_bert_backbone",
    "build_bert_classifier",
    "build_bow_classifier",
    "build_convnet",
    "build_digit_fusion",
    "build_gpt",
    "build_lstm_classifier",
    "build_masked_lm",
    "build_mlp",
    "build_resnet",
    "build_speech_classifier",
    "build_transformer_classifier",
    "build_translator",
]
