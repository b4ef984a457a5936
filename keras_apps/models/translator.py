"""An encoder–decoder Transformer for translation ("Attention is all you need"), from keras-hub layers.

source ids ─▶ token + position embedding ─▶ N × TransformerEncoder ─▶ layer norm ─┐ (keys and values of
target ids (shifted right, `[START]` first) ─▶ token + position embedding          │  cross-attention)
    ─▶ N × TransformerDecoder (causal self-attention, then cross-attention) ◀───────┘
    ─▶ layer norm ─▶ logits over the target vocabulary (float32)

Blocks are pre-norm (`normalize_first`), which trains stably at higher learning rates than the paper's
post-norm. Id 0 is padding on both sides: it is masked in every attention, so padding never changes an
output. The layers that decoding runs one token at a time are named with, and found through,
`keras_apps.models.parts` (`TranslatorLayers`). `build_translator` imports Keras itself: a task's command
line reads `TranslatorConfig` without loading TensorFlow.
"""

from dataclasses import asdict, dataclass

from keras_apps.recipes import transformer_blocks
from keras_apps.settings import SettingError, positive_int, probability, setting


@dataclass(frozen=True)
class TranslatorConfig:
    """The shape of a translator.

    Attributes:
        source_vocabulary_size, target_vocabulary_size: token ids on each side (0 is padding).
        max_length: positions each side reads (the target's include its `[START]`).
        num_layers: encoder blocks, and as many decoder blocks.
        num_heads, hidden_dim: attention heads and width (a multiple of `num_heads`).
        intermediate_dim: width of each block's feed-forward layer.
        dropout: on embeddings, attention weights and block outputs while training.
        blocks: "keras-hub" (its Transformer layers) or "explained" (`keras_apps.models.attention_explained`'s).
    """

    source_vocabulary_size: int | None = None  # from the vocabularies, once they are learned
    target_vocabulary_size: int | None = None
    max_length: int = setting(32, help="tokens each side reads; longer training pairs are left out",
                              type=positive_int)
    num_layers: int = setting(2, help="encoder blocks, and as many decoder blocks", type=positive_int)
    num_heads: int = setting(4, help="attention heads per block", type=positive_int)
    hidden_dim: int = setting(256, help="width (a multiple of --num-heads)", type=positive_int)
    intermediate_dim: int = setting(1024, help="feed-forward width", type=positive_int)
    dropout: float = setting(0.1, help="dropout while training", type=probability)
    blocks: str = transformer_blocks()

    def __post_init__(self):
        if self.hidden_dim % self.num_heads:
            raise SettingError(TranslatorConfig, "hidden_dim", f"{self.hidden_dim} is not a multiple of "
                               f"--num-heads {self.num_heads}")
        if self.max_length < 2:
            raise SettingError(TranslatorConfig, "max_length", f"must be at least 2, got {self.max_length}")

    def to_dict(self):
        return asdict(self)


def build_translator(config):
    """`{"source_ids", "target_ids"}` (`[batch, ≤ max_length]` int32, 0-padded) in; logits
    `[batch, target length, target_vocabulary_size]` for the next target token at each position out."""
    import keras
    import keras_hub
    from keras import ops

    from keras_apps.models import parts
    from keras_apps.models.attention_explained import decoder_block, encoder_block

    def embedding(vocabulary_size, name):
        return keras_hub.layers.TokenAndPositionEmbedding(
            vocabulary_size=vocabulary_size, sequence_length=config.max_length, embedding_dim=config.hidden_dim,
            name=name,
        )

    source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    target_ids = keras.Input(shape=(None,), dtype="int32", name="target_ids")
    source_mask = ops.not_equal(source_ids, 0)
    target_mask = ops.not_equal(target_ids, 0)

    x = embedding(config.source_vocabulary_size, parts.SOURCE_EMBEDDING)(source_ids)
    x = keras.layers.Dropout(config.dropout, name="source_dropout")(x)
    for index in range(config.num_layers):
        x = encoder_block(
            config.blocks, intermediate_dim=config.intermediate_dim, num_heads=config.num_heads, dropout=config.dropout,
            activation="gelu", normalize_first=True, name=parts.encoder_block(index),
        )(x, padding_mask=source_mask)
    encoded = keras.layers.LayerNormalization(epsilon=1e-5, name=parts.ENCODER_NORM)(x)

    y = embedding(config.target_vocabulary_size, parts.TARGET_EMBEDDING)(target_ids)
    y = keras.layers.Dropout(config.dropout, name="target_dropout")(y)
    for index in range(config.num_layers):
        y = decoder_block(
            config.blocks, intermediate_dim=config.intermediate_dim, num_heads=config.num_heads, dropout=config.dropout,
            activation="gelu", normalize_first=True, name=parts.decoder_block(index),
        )(y, encoded, decoder_padding_mask=target_mask, encoder_padding_mask=source_mask)
    y = keras.layers.LayerNormalization(epsilon=1e-5, name=parts.DECODER_NORM)(y)
    logits = keras.layers.Dense(config.target_vocabulary_size, dtype="float32", name=parts.LOGITS)(y)
    return keras.Model({"source_ids": source_ids, "target_ids": target_ids}, logits, name="translator")
