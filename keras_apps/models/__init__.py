"""Functional model builders: each returns a `keras.Model`, reads no files, flags or globals."""

from keras_apps.models.convnet import build_convnet
from keras_apps.models.resnet import build_resnet

__all__ = ["build_convnet", "build_resnet"]
