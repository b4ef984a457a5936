"""A GPT: a decoder-only Transformer language model, built from keras-hub layers.

token ids ─▶ token + learned position embedding ─▶ dropout ─▶ N × pre-norm causal self-attention blocks
(keras-hub `TransformerDecoder` without cross-attention) ─▶ final layer norm ─▶ logits over the vocabulary,
through the token embedding itself when weights are tied (GPT-2 and nanoGPT tie them).

The layers that decoding with a key/value cache runs one token at a time are named with, and found through,
`keras_apps.models.parts` (`GPTLayers`). `build_gpt` imports Keras itself: a task's command line reads
`GPTConfig` without loading TensorFlow.
"""

from dataclasses import asdict, dataclass

from keras_apps.recipes import transformer_blocks
from keras_apps.settings import SettingError, positive_int, probability, setting


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT.

    Attributes:
        vocabulary_size: number of token ids.
        context_length: longest sequence the model reads (its learned positions).
        num_layers, num_heads, hidden_dim: depth, attention heads, and width (a multiple of `num_heads`).
        intermediate_dim: width of each block's feed-forward layer (0: four times `hidden_dim`, as in GPT-2).
        dropout: on the embeddings, attention weights and block outputs while training.
        tie_weights: compute logits with the token embedding matrix instead of a separate projection.
        blocks: "keras-hub" (its `TransformerDecoder`) or "explained" (`attention_explained.TransformerDecoder`).
    """

    vocabulary_size: int | None = None  # from the tokenizer, once it is learned
    context_length: int = setting(256, help="tokens the model reads (block size)", type=positive_int)
    num_layers: int = setting(6, help="Transformer blocks", type=positive_int)
    num_heads: int = setting(6, help="attention heads per block", type=positive_int)
    hidden_dim: int = setting(384, help="width (a multiple of --num-heads)", type=positive_int)
    intermediate_dim: int = 0
    dropout: float = setting(0.2, help="dropout while training", type=probability)
    tie_weights: bool = setting(True, help="share the token embedding with the output layer")
    blocks: str = transformer_blocks()

    def __post_init__(self):
        if self.hidden_dim % self.num_heads:
            raise SettingError(GPTConfig, "hidden_dim", f"{self.hidden_dim} is not a multiple of --num-heads "
                               f"{self.num_heads}")
        if self.context_length < 2:
            raise SettingError(GPTConfig, "context_length", f"must be at least 2, got {self.context_length}")

    @property
    def feedforward_dim(self):
        return self.intermediate_dim or 4 * self.hidden_dim

    def training_flops_per_token(self, num_params, trainable_params=None):
        """nanoGPT's estimate (PaLM appendix B): 6 FLOPs per parameter, plus attention over the context. The 6 are
        2 forward, 2 for the gradient of the activations and 2 for the parameter's own gradient, which only the
        `trainable_params` (all, by default) have: LoRA's frozen weights cost 4."""
        trainable_params = num_params if trainable_params is None else trainable_params
        return 4 * num_params + 2 * trainable_params + 12 * self.num_layers * self.hidden_dim * self.context_length

    def to_dict(self):
        return asdict(self)


def build_gpt(config):
    """Token ids `[batch, length]` (length ≤ `context_length`) in, next-token logits `[batch, length, vocab]` out."""
    import keras
    import keras_hub

    from keras_apps.models import parts
    from keras_apps.models.attention_explained import decoder_block, independent

    if config.vocabulary_size is None:
        raise ValueError("build_gpt needs the config's vocabulary_size")
    initializer = keras.initializers.RandomNormal(stddev=0.02)  # GPT-2's initialization
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    token_embedding = keras_hub.layers.ReversibleEmbedding(
        input_dim=config.vocabulary_size,
        output_dim=config.hidden_dim,
        tie_weights=config.tie_weights,
        embeddings_initializer=initializer,
        reverse_dtype="float32",  # logits in full precision even when the blocks compute in bfloat16
        name=parts.TOKEN_EMBEDDING,
    )
    position_embedding = keras_hub.layers.PositionEmbedding(
        sequence_length=config.context_length, initializer=independent(initializer), name=parts.POSITION_EMBEDDING
    )
    tokens = token_embedding(token_ids)
    x = keras.layers.Add(name="embeddings_add")([tokens, position_embedding(tokens)])
    x = keras.layers.Dropout(config.dropout, name="embedding_dropout")(x)
    for index in range(config.num_layers):
        x = decoder_block(
            config.blocks,
            intermediate_dim=config.feedforward_dim,
            num_heads=config.num_heads,
            dropout=config.dropout,
            activation="gelu",
            kernel_initializer=initializer,
            normalize_first=True,
            name=parts.decoder_block(index),
        )(x)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name=parts.FINAL_NORM)(x)
    # The reverse call projects onto the (tied or separate) output embedding: one code path either way.
    logits = token_embedding(x, reverse=True)
    return keras.Model(token_ids, logits, name="gpt")
