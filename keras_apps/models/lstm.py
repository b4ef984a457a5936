"""A bidirectional LSTM over WordPiece tokens: the recurrent model of the text tutorials."""

import keras
from keras import layers


def build_lstm_classifier(vocabulary_size, embedding_dim=64, units=64, dropout=0.3, name="lstm"):
    """Token ids of any length in (0 is padding and is masked out), one logit out (positive > 0).

    Args:
        vocabulary_size: number of token ids.
        embedding_dim: size of each token's embedding.
        units: LSTM units in each direction; the two final states are concatenated.
        dropout: dropout rate on the embeddings and before the classifier.
    """
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(token_ids)
    x = layers.SpatialDropout1D(dropout, name="embedding_dropout")(x)
    x = layers.Bidirectional(layers.LSTM(units), name="bilstm")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)  # float32 under mixed precision too
    return keras.Model(token_ids, logit, name=name)
