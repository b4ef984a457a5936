"""A Transformer encoder classifier built from keras-hub layers (the keras.io text-classification recipe,
with padding masked everywhere and the encoder outputs pooled over the real tokens only)."""

import keras
import keras_hub
from keras import layers, ops

from keras_apps.models import parts
from keras_apps.models.attention_explained import encoder_block
from keras_apps.models.pooling import pool_tokens
from keras_apps.text.vocabulary import PAD_ID


def build_transformer_classifier(
    vocabulary_size,
    sequence_length,
    embedding_dim=64,
    num_heads=4,
    intermediate_dim=128,
    num_layers=1,
    dropout=0.1,
    pooling="mean-max",
    blocks="keras-hub",
    name="transformer",
):
    """Token ids in (`PAD_ID` is padding, masked out everywhere), one logit out (positive > 0).

    Args:
        vocabulary_size: number of token ids.
        sequence_length: the longest input: the number of learned positions.
        embedding_dim: the model width.
        num_heads: attention heads per encoder layer.
        intermediate_dim: width of each encoder's feed-forward layer.
        num_layers: encoder layers.
        dropout: dropout rate inside the encoders and before the classifier.
        pooling: how the token vectors become one review vector (`keras_apps.models.pooling.POOLINGS`).
        blocks: "keras-hub" (its `TransformerEncoder`) or "explained" (`attention_explained.TransformerEncoder`).
    """
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    padding_mask = ops.not_equal(token_ids, PAD_ID)
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size, sequence_length, embedding_dim, name=parts.EMBEDDING
    )(token_ids)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for index in range(num_layers):
        x = encoder_block(
            blocks, intermediate_dim=intermediate_dim, num_heads=num_heads, dropout=dropout, name=f"encoder{index + 1}"
        )(x, padding_mask=padding_mask)
    x = pool_tokens(x, padding_mask, pooling)
    x = layers.Dropout(dropout, name="dropout")(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)  # float32 under mixed precision too
    return keras.Model(token_ids, logit, name=name)
