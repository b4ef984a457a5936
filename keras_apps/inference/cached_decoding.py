"""A GPT run one token at a time over a key/value cache, so each new token costs one step.

Calling the model on the whole prefix for every new token recomputes the keys and values of all earlier
tokens; keras-hub's `TransformerDecoder` can instead take and return a cache of them. This class calls the
same layers (`keras_apps.models.parts.GPTLayers`, so the weights are the model's own) in that mode, as
keras-hub's `GPT2CausalLM.call_with_cache` does (with one cache tensor per block, as the translator has).
"""

from keras import ops

from keras_apps.models.parts import GPTLayers


class CachedDecoder:
    """The layers of a `build_gpt` model, called with a key/value cache."""

    def __init__(self, model):
        self.model = model
        layers = GPTLayers.of(model)
        self.embed = layers.embed
        self.token_embedding = layers.token_embedding
        self.position_embedding = layers.position_embedding
        self.blocks = layers.blocks
        self.final_norm = layers.final_norm
        self.context_length = self.position_embedding.sequence_length
        self.num_heads = self.blocks[0].num_heads
        self.head_dim = self.token_embedding.output_dim // self.num_heads

    def empty_cache(self, batch_size, length):
        """One `[batch, 2 (keys, values), length, heads, head_dim]` tensor of zeros per block.

        One tensor per block, not one stacked for all: slicing a block's part out of a stack and stacking the
        updated parts back would copy the whole cache at every step, and at batch 64 a step is bound by
        moving the cache (bench/NOTES.md)."""
        shape = [batch_size, 2, length, self.num_heads, self.head_dim]
        return tuple(ops.zeros(shape, dtype=self.model.compute_dtype) for _ in self.blocks)

    def call_with_cache(self, token_ids, cache, index):
        """Logits for `token_ids` placed at positions `index…`, attending to the cache; returns the cache
        updated with their keys and values."""
        x = self.embed(token_ids, start_index=index)
        updated = []
        for block, block_cache in zip(self.blocks, cache):
            x, block_cache = block(x, self_attention_cache=block_cache, self_attention_cache_update_index=index)
            updated.append(block_cache)
        logits = self.token_embedding(self.final_norm(x), reverse=True)
        return logits, tuple(updated)

    def logits(self, token_ids):
        """The whole model on `token_ids`, no cache: what each cached step must reproduce."""
        return self.model(token_ids, training=False)
