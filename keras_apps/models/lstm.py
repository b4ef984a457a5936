"""A bidirectional LSTM over WordPiece tokens: the recurrent model of the text tutorials."""

import keras
from keras import layers, ops

from keras_apps.models import parts
from keras_apps.models.pooling import pool_tokens
from keras_apps.text.vocabulary import PAD_ID


def build_lstm_classifier(
    vocabulary_size, embedding_dim=64, units=64, dropout=0.3, pooling="mean-max", name="lstm"
):
    """Token ids of any length in (`PAD_ID` is padding and is masked out), one logit out (positive > 0).

    Args:
        vocabulary_size: number of token ids.
        embedding_dim: size of each token's embedding.
        units: LSTM units in each direction; each token's two states are concatenated.
        dropout: dropout rate on the embeddings (whole channels) and before the classifier.
        pooling: how the token states become one review vector (`keras_apps.models.pooling.POOLINGS`).
    """
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    padding_mask = ops.not_equal(token_ids, PAD_ID)
    x = layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name=parts.EMBEDDING)(token_ids)
    x = layers.SpatialDropout1D(dropout, name="embedding_dropout")(x)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    x = pool_tokens(x, padding_mask, pooling)
    x = layers.Dropout(dropout, name="dropout")(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)  # float32 under mixed precision too
    return keras.Model(token_ids, logit, name=name)
