"""The Transformer written out: attention, positions and blocks as the tutorials write them, in plain Keras.

keras-hub's `TransformerEncoder` and `TransformerDecoder` (what the models of this suite train with by default)
keep these computations inside the library. Here they are, in the order a course teaches them, each formula
in its docstring and each line of code one step of it. Given the same weights, every layer here computes
what its library counterpart does (tests/models/test_attention_explained.py proves it to float tolerance),
and `--blocks explained` trains the IMDB Transformer, the translator and GPT with them.

Shapes: b examples, n query positions, m key positions, h heads, d_model the width, d_k = d_model / h.
Masks are booleans: True where a query may look at a key.
"""

import math

import keras
import keras_hub
from keras import ops

from keras_apps.recipes import TRANSFORMER_BLOCKS


def independent(initializer, input_axes=None, output_axes=None):
    """A copy of `initializer` that draws its own values. A Keras 3 initializer made without a seed fixes one
    when it is made, so one object used for several weights starts them all equal: query, key and value
    would begin as the same projection, and every block as the same block.

    For a kernel of more than two axes, `input_axes` (summed over) and `output_axes` (produced) tell a
    variance-scaling initializer (Glorot, He) its fans, as `keras.layers.EinsumDense` does: W^Q
    `[d_model, h, d_k]` is the d_model x d_model matrix of the paper, and starts with that matrix's spread
    (counted over its last two axes, its values would start six times smaller)."""
    config = initializer.get_config()
    if input_axes is not None and isinstance(initializer, keras.initializers.VarianceScaling):
        config.update(input_axes=input_axes, output_axes=output_axes)
    return initializer.__class__.from_config(config)


def large_negative(dtype):
    """What a masked score becomes: its e^score is 0 in `dtype` (float16 cannot hold -1e9)."""
    return -3e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9


def scaled_dot_product_attention(query, key, value, mask=None, dropout=None, training=None):
    """Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V, for every head at once.

    `query` `[b, n, h, d_k]`, `key` and `value` `[b, m, h, d_k]`, `mask` `[b, n, m]`. Returns the output
    `[b, n, h, d_k]` and the weights `[b, h, n, m]` (each row sums to 1: how much query i reads key j).
    A score is a sum of d_k products, so its spread grows with √d_k; dividing by √d_k keeps the softmax
    out of its flat, saturated ends. A masked score is set to a large negative number: its weight is 0.
    """
    scores = ops.einsum("bnhd,bmhd->bhnm", query, key) / math.sqrt(query.shape[-1])
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), axis=1)  # the same mask for every head
        scores = ops.where(mask, scores, large_negative(scores.dtype))
    weights = ops.softmax(scores, axis=-1)
    if dropout is not None:
        weights = dropout(weights, training=training)  # attention dropout, as in the paper's implementation
    return ops.einsum("bhnm,bmhd->bnhd", weights, value), weights


def causal_mask(query_length, key_length, start=0):
    """`[n, m]`: query i, at position `start + i`, may read key j when j ≤ start + i, never a later token.

    A language model is trained to predict token t + 1 from tokens ≤ t; without this mask it would read the
    answer. `start` is the position of the first query when earlier keys come from a cache."""
    queries = ops.expand_dims(ops.arange(query_length) + start, axis=1)
    keys = ops.expand_dims(ops.arange(key_length), axis=0)
    return queries >= keys


@keras.saving.register_keras_serializable(package="keras_apps")
class MultiHeadAttention(keras.layers.Layer):
    """MultiHead(Q, K, V) = Concat(head_1, …, head_h)·W^O,  head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V).

    Each head projects the d_model-wide inputs down to d_k and attends on its own, so different heads can
    look for different things; W^O mixes their outputs back to d_model. The projections are kept per head
    (`[d_model, h, d_k]`, as Keras keeps them), so splitting into heads and merging them back is an index of
    an einsum, not a reshape. Weights in the order of `keras.layers.MultiHeadAttention`'s.

    Decoding one token at a time can keep the keys and values of earlier positions in a `cache`
    `[b, 2 (keys, values), max_length, h, d_k]`: with `cache_index` the new ones are written there and the
    updated cache is returned beside the output; with `cache_index=None` the cache is read as it is (the
    encoder's keys and values for cross-attention, computed once).
    """

    def __init__(self, num_heads, dropout=0.0, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.attention_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, query_shape, value_shape=None):
        d_model, source_width = query_shape[-1], (value_shape or query_shape)[-1]
        h, d_k = self.num_heads, d_model // self.num_heads

        def projection(name, width):  # W_i^name for every head i, and its bias
            return (self.add_weight(name=f"{name}_kernel", shape=(width, h, d_k),
                                    initializer=independent(self.kernel_initializer, [0], [1, 2])),
                    self.add_weight(name=f"{name}_bias", shape=(h, d_k), initializer="zeros"))

        self.w_query, self.b_query = projection("query", d_model)
        self.w_key, self.b_key = projection("key", source_width)
        self.w_value, self.b_value = projection("value", source_width)
        self.w_output = self.add_weight(name="output_kernel", shape=(h, d_k, d_model),
                                        initializer=independent(self.kernel_initializer, [0, 1], [2]))
        self.b_output = self.add_weight(name="output_bias", shape=(d_model,), initializer="zeros")

    def call(self, query, value, attention_mask=None, cache=None, cache_index=None, training=None,
             return_weights=False):
        q = ops.einsum("bnD,Dhd->bnhd", query, self.w_query) + self.b_query  # split into heads: Q·W_i^Q
        if cache is not None and cache_index is None:
            k, v = cache[:, 0], cache[:, 1]
        else:
            k = ops.einsum("bmD,Dhd->bmhd", value, self.w_key) + self.b_key
            v = ops.einsum("bmD,Dhd->bmhd", value, self.w_value) + self.b_value
            if cache is not None:
                start = [0, cache_index, 0, 0]
                k, v = ops.slice_update(cache[:, 0], start, k), ops.slice_update(cache[:, 1], start, v)
                cache = ops.stack([k, v], axis=1)
        heads, weights = scaled_dot_product_attention(q, k, v, attention_mask, self.attention_dropout, training)
        output = ops.einsum("bnhd,hdD->bnD", heads, self.w_output) + self.b_output  # Concat(heads)·W^O
        if cache is not None:
            return (output, weights, cache) if return_weights else (output, cache)
        return (output, weights) if return_weights else output

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="keras_apps")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).

    Attention alone does not know word order (it is a weighted sum over a set); adding this to the token
    embeddings marks each position with waves of wavelengths from 2π to 10000·2π, so PE(pos + k) is a
    linear function of PE(pos) and relative positions are easy to read. Nothing is learned. Returns the
    encodings (the shape of `inputs`), to be added to them.
    """

    def __init__(self, max_wavelength=10_000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, inputs, start_index=0):
        length, d_model = ops.shape(inputs)[-2], ops.shape(inputs)[-1]
        position = ops.cast(ops.arange(length) + start_index, self.compute_dtype)
        pair = ops.cast(2 * (ops.arange(d_model) // 2), self.compute_dtype)  # 2i for both 2i and 2i + 1
        frequency = ops.power(ops.cast(1 / self.max_wavelength, self.compute_dtype), pair / d_model)
        angle = ops.expand_dims(position, 1) * ops.expand_dims(frequency, 0)  # pos / 10000^(2i/d_model)
        is_odd = ops.arange(d_model) % 2 == 1
        return ops.broadcast_to(ops.where(is_odd, ops.cos(angle), ops.sin(angle)), ops.shape(inputs))

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


@keras.saving.register_keras_serializable(package="keras_apps")
class LearnedPositionEmbedding(keras.layers.Layer):
    """PE(pos) = P[pos]: a `[max_length, d_model]` table learned like any other weight (GPT, BERT).

    It can only place `max_length` positions, where the sinusoids go on forever; in exchange it learns
    whatever position signal the task wants. Returns the rows for the positions of `inputs`, to be added."""

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.table = self.add_weight(name="embeddings", shape=(self.sequence_length, input_shape[-1]),
                                     initializer=independent(self.initializer))

    def call(self, inputs, start_index=0):
        length = ops.shape(inputs)[-2]
        rows = ops.slice(self.table, (start_index, 0), (length, ops.shape(self.table)[-1]))
        return ops.broadcast_to(ops.cast(rows, self.compute_dtype), ops.shape(inputs))

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer)}


class _Block(keras.layers.Layer):
    """What the encoder and decoder blocks share: residual connections with layer norm, and the feed-forward
    network."""

    def __init__(self, intermediate_dim, num_heads, dropout=0.0, activation="relu", layer_norm_epsilon=1e-5,
                 kernel_initializer="glorot_uniform", normalize_first=False, **kwargs):
        super().__init__(**kwargs)
        self.intermediate_dim, self.num_heads, self.dropout = intermediate_dim, num_heads, dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.normalize_first = normalize_first
        self.residual_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def _attention(self, name):
        return MultiHeadAttention(self.num_heads, self.dropout, self.kernel_initializer, name=name,
                                  dtype=self.dtype_policy)

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon, name=name, dtype=self.dtype_policy)
        norm.build(shape)
        return norm

    def _feedforward(self, shape):
        """FFN(x) = activation(x·W_1 + b_1)·W_2 + b_2, applied to each position on its own."""
        self.feedforward_in = keras.layers.Dense(self.intermediate_dim, self.activation, name="feedforward_in",
                                                 kernel_initializer=independent(self.kernel_initializer),
                                                 dtype=self.dtype_policy)
        self.feedforward_in.build(shape)
        self.feedforward_out = keras.layers.Dense(shape[-1], name="feedforward_out", dtype=self.dtype_policy,
                                                  kernel_initializer=independent(self.kernel_initializer))
        self.feedforward_out.build((*shape[:-1], self.intermediate_dim))

    def residual(self, x, norm, sublayer, training):
        """Post-norm (the paper): LayerNorm(x + Dropout(Sublayer(x))).
        Pre-norm (`normalize_first`, GPT-2 and later): x + Dropout(Sublayer(LayerNorm(x))), whose residual
        path is never normalized, which trains deep stacks stably at higher learning rates.
        `sublayer` returns its output, or `(output, cache)`; so does this."""
        output = sublayer(norm(x) if self.normalize_first else x)
        output, cache = output if isinstance(output, tuple) else (output, None)
        x = x + self.residual_dropout(output, training=training)
        x = x if self.normalize_first else norm(x)
        return x if cache is None else (x, cache)

    def feedforward(self, x):
        return self.feedforward_out(self.feedforward_in(x))

    def get_config(self):
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim, "num_heads": self.num_heads,
                "dropout": self.dropout, "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon, "normalize_first": self.normalize_first,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="keras_apps")
class TransformerEncoder(_Block):
    """An encoder block: every position reads every other, then each is transformed on its own.

        x = Residual(x, MultiHead(x, x, x))       self-attention: queries, keys and values all from x
        x = Residual(x, FFN(x))

    `padding_mask` `[b, m]` (True for real tokens) keeps padding out of every attention. The same arguments,
    call and weights (in the same order) as `keras_hub.layers.TransformerEncoder`.
    """

    def build(self, input_shape):
        self.self_attention = self._attention("self_attention")
        self.self_attention.build(input_shape, input_shape)
        self.self_attention_norm = self._norm("self_attention_norm", input_shape)
        self.feedforward_norm = self._norm("feedforward_norm", input_shape)
        self._feedforward(input_shape)

    def call(self, inputs, padding_mask=None, training=None):
        mask = None if padding_mask is None else ops.expand_dims(padding_mask, axis=1)  # [b, 1, m]: every query
        x = self.residual(inputs, self.self_attention_norm,
                          lambda x: self.self_attention(x, x, attention_mask=mask, training=training), training)
        return self.residual(x, self.feedforward_norm, self.feedforward, training)


@keras.saving.register_keras_serializable(package="keras_apps")
class TransformerDecoder(_Block):
    """A decoder block: masked self-attention, then (in an encoder–decoder model) cross-attention, then FFN.

        x = Residual(x, MultiHead(x, x, x) under the causal mask)      position t reads positions ≤ t only
        x = Residual(x, MultiHead(x, encoded, encoded))                 queries from x; keys, values from the source
        x = Residual(x, FFN(x))

    A GPT calls it with `decoder_sequence` alone; a translator with the encoder's output as `encoder_sequence`
    too. With caches (`self_attention_cache` and, with an encoder, `cross_attention_cache`) it returns them
    updated beside its output, for decoding a token at a time. The same arguments, call and weights (in the
    same order) as `keras_hub.layers.TransformerDecoder`.
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        self.self_attention = self._attention("self_attention")
        self.self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self.self_attention_norm = self._norm("self_attention_norm", decoder_sequence_shape)
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            self.cross_attention = self._attention("cross_attention")
            self.cross_attention.build(decoder_sequence_shape, encoder_sequence_shape)
            self.cross_attention_norm = self._norm("cross_attention_norm", decoder_sequence_shape)
        self._feedforward(decoder_sequence_shape)
        self.feedforward_norm = self._norm("feedforward_norm", decoder_sequence_shape)

    def call(self, decoder_sequence, encoder_sequence=None, decoder_padding_mask=None, encoder_padding_mask=None,
             self_attention_cache=None, self_attention_cache_update_index=None, cross_attention_cache=None,
             cross_attention_cache_update_index=None, training=None):
        if (encoder_sequence is None) != (self.cross_attention is None):
            raise ValueError("a decoder block is called with an encoder_sequence always or never, as it was built")
        x = decoder_sequence
        start = 0 if self_attention_cache_update_index is None else self_attention_cache_update_index
        keys = ops.shape(x)[1] if self_attention_cache is None else ops.shape(self_attention_cache)[2]
        mask = ops.expand_dims(causal_mask(ops.shape(x)[1], keys, start), axis=0)  # [1, n, m]
        if decoder_padding_mask is not None:
            mask = ops.logical_and(mask, ops.expand_dims(ops.cast(decoder_padding_mask, "bool"), axis=1))

        def self_attention(x):
            return self.self_attention(x, x, attention_mask=mask, cache=self_attention_cache,
                                       cache_index=self_attention_cache_update_index, training=training)

        x = self.residual(x, self.self_attention_norm, self_attention, training)
        x, self_attention_cache = x if self_attention_cache is not None else (x, None)
        if self.cross_attention is not None:
            source_mask = None if encoder_padding_mask is None else ops.expand_dims(encoder_padding_mask, axis=1)

            def cross_attention(x):
                return self.cross_attention(x, encoder_sequence, attention_mask=source_mask,
                                            cache=cross_attention_cache,
                                            cache_index=cross_attention_cache_update_index, training=training)

            x = self.residual(x, self.cross_attention_norm, cross_attention, training)
            x, cross_attention_cache = x if cross_attention_cache is not None else (x, None)
        x = self.residual(x, self.feedforward_norm, self.feedforward, training)
        if self_attention_cache is None:
            return x
        return (x, self_attention_cache) if self.cross_attention is None else (x, self_attention_cache,
                                                                                cross_attention_cache)

    def cross_attention_weights(self, decoder_sequence, encoder_sequence, encoder_padding_mask=None):
        """The weights `[b, h, n, m]` of this block's cross-attention: where each target position looked in
        the source."""
        length = ops.shape(decoder_sequence)[1]
        causal = ops.expand_dims(causal_mask(length, length), axis=0)
        x = self.residual(decoder_sequence, self.self_attention_norm,
                          lambda x: self.self_attention(x, x, attention_mask=causal), training=False)
        source_mask = None if encoder_padding_mask is None else ops.expand_dims(encoder_padding_mask, axis=1)
        query = self.cross_attention_norm(x) if self.normalize_first else x
        _, weights = self.cross_attention(query, encoder_sequence, attention_mask=source_mask, return_weights=True)
        return weights


def _library_or_written(blocks, library_block, written_block):
    if blocks not in TRANSFORMER_BLOCKS:
        raise ValueError(f"unknown blocks {blocks!r}; choose one of {', '.join(TRANSFORMER_BLOCKS)}")
    return library_block if blocks == "keras-hub" else written_block


def encoder_block(blocks, **settings):
    """A Transformer encoder block: `blocks` "keras-hub" (the library's) or "explained" (this module's)."""
    return _library_or_written(blocks, keras_hub.layers.TransformerEncoder, TransformerEncoder)(**settings)


def decoder_block(blocks, **settings):
    """A Transformer decoder block: `blocks` "keras-hub" (the library's) or "explained" (this module's)."""
    return _library_or_written(blocks, keras_hub.layers.TransformerDecoder, TransformerDecoder)(**settings)
