"""BERT from keras-hub's backbone: the backbone, its masked-language-model head, and the classifier.

Pre-training (`build_masked_lm`) and fine-tuning (`build_bert_classifier`) share one backbone object, so
the weights the masked-LM task learned are the weights the classifier starts from.
"""

import warnings

import keras
import keras_hub
from keras import layers

from keras_apps.models.pooling import POOLINGS as TOKEN_POOLINGS
from keras_apps.models.pooling import pool_tokens


def build_bert_backbone(
    vocabulary_size, sequence_length, num_layers=2, num_heads=2, hidden_dim=128, intermediate_dim=512, dropout=0.1
):
    """A BERT encoder (`keras_hub.models.BertBackbone`) sized for a CPU; the defaults are BERT-Tiny's shape.

    It takes `token_ids`, `segment_ids` and `padding_mask` of length up to `sequence_length`, and returns
    `sequence_output` (one vector per token) and `pooled_output` (the `[CLS]` vector through a tanh layer).
    """
    return keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        dropout=dropout,
        max_sequence_length=sequence_length,
    )


def _backbone_inputs(backbone):
    """Fresh `keras.Input`s shaped like the backbone's, so that a new model can wrap it."""
    return {
        name: keras.Input(tensor.shape[1:], dtype=tensor.dtype, name=name) for name, tensor in backbone.input.items()
    }


def build_masked_lm(backbone, mask_selection_length, name="masked_lm"):
    """The backbone plus a masked-LM head whose output layer is tied to the token embedding.

    Inputs: the backbone's, plus `mask_positions` (`mask_selection_length` token positions per example).
    Output: vocabulary logits at those positions, `[batch, mask_selection_length, vocabulary_size]`.
    """
    inputs = _backbone_inputs(backbone)
    inputs["mask_positions"] = keras.Input((mask_selection_length,), dtype="int32", name="mask_positions")
    sequence = backbone({key: inputs[key] for key in backbone.input})["sequence_output"]
    logits = keras_hub.layers.MaskedLMHead(
        token_embedding=backbone.token_embedding, intermediate_activation="gelu",
        dtype="float32", name="mlm_head",  # a small head, computed in float32 under mixed precision too
    )(sequence, mask_positions=inputs["mask_positions"])
    return keras.Model(inputs, logits, name=name)


POOLINGS = (*TOKEN_POOLINGS, "cls")
# The backbone's `[CLS]` pooler has no part in the masked-LM loss, nor in a classifier that pools the mean:
# Keras would warn at every `fit` that it gets no gradients, which is expected here.
warnings.filterwarnings("ignore", message=r"Gradients do not exist for variables \['pooled_dense")


def build_bert_classifier(backbone, pooling="mean", dropout=0.1, name="bert_classifier"):
    """A review vector from the backbone, dropout, and one logit (positive > 0).

    Args:
        pooling: `mean` (the average of the real tokens' output vectors), `max`, `mean-max` (see
            `keras_apps.models.pooling`), or `cls`: BERT's pooled `[CLS]` vector. Masked-LM pre-training
            alone (without next-sentence prediction) trains the token vectors but leaves the `[CLS]` pooler
            untouched, so pooling the tokens is what carries what it learned.
        dropout: dropout rate before the logit.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    inputs = _backbone_inputs(backbone)
    outputs = backbone(inputs)
    if pooling == "cls":
        pooled = outputs["pooled_output"]
    else:
        pooled = pool_tokens(outputs["sequence_output"], inputs["padding_mask"], pooling)
    x = layers.Dropout(dropout, name="dropout")(pooled)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)  # float32 under mixed precision too
    return keras.Model(inputs, logit, name=name)
