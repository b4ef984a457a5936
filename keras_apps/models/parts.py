"""The layers of built models that inference and explanations call directly, reached through typed accessors.

A builder names these layers with the constants below, and each accessor finds them by the same constants and
checks what it found, so the contract between a builder and the code that runs its layers one at a time
(cached decoding, beam search, integrated gradients) lives in one module and is checked by tests.
An accessor given a model its builder did not make raises `ValueError`.
"""

from dataclasses import dataclass

import keras

RESCALE = "rescale"  # image models: uint8 pixels → floats in [0, 1]
EMBEDDING = "embedding"  # token classifiers (LSTM, Transformer): token ids → vectors
TOKEN_EMBEDDING, POSITION_EMBEDDING, FINAL_NORM = "token_embedding", "position_embedding", "final_norm"  # GPT
SOURCE_EMBEDDING, TARGET_EMBEDDING = "source_embedding", "target_embedding"  # translator
ENCODER_NORM, DECODER_NORM, LOGITS = "encoder_norm", "decoder_norm", "logits"


def encoder_block(index):
    return f"encoder_{index}"


def decoder_block(index):
    return f"decoder_{index}"


def _layer(model, name, kind):
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(f"{model.name} has no {name!r} layer: it is not a {kind} model of this suite") from None


def _blocks(model, name_of):
    blocks = []
    while any(layer.name == name_of(len(blocks)) for layer in model.layers):
        blocks.append(model.get_layer(name_of(len(blocks))))
    return tuple(blocks)


def pixel_input(model):
    """The layer of an image model whose output is its scaled pixels."""
    return _layer(model, RESCALE, "image")


def token_embedding(model):
    """The embedding of a token classifier (`build_lstm_classifier`, `build_transformer_classifier`)."""
    return _layer(model, EMBEDDING, "token classifier")


@dataclass(frozen=True)
class GPTLayers:
    """A `build_gpt` model's layers, in order: what decoding with a key/value cache calls."""

    token_embedding: keras.layers.Layer
    position_embedding: keras.layers.Layer
    blocks: tuple
    final_norm: keras.layers.Layer

    @classmethod
    def of(cls, model):
        layers = cls(_layer(model, TOKEN_EMBEDDING, "GPT"), _layer(model, POSITION_EMBEDDING, "GPT"),
                     _blocks(model, decoder_block), _layer(model, FINAL_NORM, "GPT"))
        if not layers.blocks:
            raise ValueError(f"{model.name} has no decoder blocks: it is not a GPT model of this suite")
        return layers

    def embed(self, token_ids, start_index=0):
        """The first block's input: the tokens' embeddings plus their positions' (dropout is off outside
        training)."""
        tokens = self.token_embedding(token_ids)
        return tokens + self.position_embedding(tokens, start_index=start_index)

    def quantization_structure(self):
        """What Keras's GPTQ and AWQ calibrate through, block by block: the embeddings, then each block."""
        return {"pre_block_layers": [self.embed], "sequential_blocks": list(self.blocks)}


@dataclass(frozen=True)
class TranslatorLayers:
    """A `build_translator` model's layers, in order: what greedy and beam-search decoding call."""

    source_embedding: keras.layers.Layer
    encoders: tuple
    encoder_norm: keras.layers.Layer
    target_embedding: keras.layers.Layer
    decoders: tuple
    decoder_norm: keras.layers.Layer
    logits: keras.layers.Layer

    @classmethod
    def of(cls, model):
        kind = "translator"
        layers = cls(_layer(model, SOURCE_EMBEDDING, kind), _blocks(model, encoder_block),
                     _layer(model, ENCODER_NORM, kind), _layer(model, TARGET_EMBEDDING, kind),
                     _blocks(model, decoder_block), _layer(model, DECODER_NORM, kind), _layer(model, LOGITS, kind))
        if not (layers.encoders and layers.decoders):
            raise ValueError(f"{model.name} lacks encoder or decoder blocks: it is not a translator of this suite")
        return layers
