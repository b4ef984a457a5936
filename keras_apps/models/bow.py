"""The bag-of-n-grams baseline: TF-IDF weighted unigrams and bigrams into a small dense network.

It ignores word order beyond bigrams, and on IMDB it still beats most small sequence models (Chollet,
*Deep Learning with Python*, 2nd ed., ch. 11): the honest baseline every other text model must beat.
The features come from `keras.layers.TextVectorization(ngrams=2, output_mode="tf_idf")`, adapted on the
training text by the task; this builder is the network that reads them.
"""

import keras
from keras import layers


def build_bow_classifier(num_features, hidden_units=16, dropout=0.5, sparse=False, name="bow"):
    """TF-IDF features in, one logit out (positive > 0).

    Args:
        num_features: length of the feature vector (the vectorizer's `max_tokens`).
        hidden_units: width of the ReLU hidden layer; 0 for plain logistic regression.
        dropout: dropout rate on the hidden layer.
        sparse: take `tf.SparseTensor` features, which keep a large n-gram vocabulary cheap.
    """
    features = keras.Input((num_features,), sparse=sparse, name="features")
    x = features
    if hidden_units:
        x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)  # float32 under mixed precision too
    return keras.Model(features, logit, name=name)
