"""Sampling text from a GPT with keras-hub's samplers, over a key/value cache, in a TensorFlow graph.

A model with learned positions reads at most `context_length` tokens. Generation runs in chunks: the first
conditions on the last `context_length` tokens of the prompt and fills the context; each later chunk
starts again from the last half of the context (one forward pass over those tokens fills a fresh cache)
and fills it again. Every new token therefore sees between half and all of the context, and costs one
cached step, plus one re-read of half a context per half a context generated.

Everything here is graph-compatible, so the whole loop can live inside an exported `tf.function`.
"""

import keras_hub
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.inference.cached_decoding import CachedDecoder

SAMPLERS = ("greedy", "top_k", "top_p", "random")
MAX_NEW_TOKENS = 10_000  # per call; a bound on the work one request can ask of a served model


def build_sampler(name, vocabulary_size, *, top_k=40, top_p=0.9, seed=None):
    """A keras-hub sampler. Temperature is applied to the logits before it (so it can be a call's input);
    `top_k` is capped at the vocabulary size."""
    if name == "greedy":
        return keras_hub.samplers.GreedySampler()
    if name == "top_k":
        return keras_hub.samplers.TopKSampler(k=min(top_k, vocabulary_size), seed=seed)
    if name == "top_p":
        return keras_hub.samplers.TopPSampler(p=top_p, seed=seed)
    if name == "random":
        return keras_hub.samplers.RandomSampler(seed=seed)
    raise UserError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


def reseed(sampler, seed):
    """Restarts a random sampler's generator at `seed` (a tensor is fine), so a seeded call repeats."""
    generator = getattr(sampler, "seed_generator", None)
    if generator is not None:
        generator.state.assign(tf.cast(tf.stack([seed, 0]), generator.state.dtype))


class TextGenerator:
    """Continues a sequence of token ids with a `build_gpt` model and a keras-hub sampler."""

    def __init__(self, model, sampler):
        self.decoder = CachedDecoder(model)
        self.sampler = sampler

    def _fill(self, buffer, prompt_length, temperature, use_cache):
        """Samples `buffer[:, prompt_length:]` given `buffer[:, :prompt_length]` (one context at most)."""
        mask = tf.range(tf.shape(buffer)[1])[None, :] < prompt_length
        if use_cache:
            cache = self.decoder.empty_cache(1, tf.shape(buffer)[1])
            _, cache = self.decoder.call_with_cache(buffer[:, :prompt_length], cache, 0)

            def next_logits(prompt, cache, index):
                # Feeds the token before `index` and reads the distribution of the token at `index`.
                logits, cache = self.decoder.call_with_cache(prompt[:, index - 1 : index], cache, index - 1)
                return logits[:, 0] / temperature, None, cache

        else:
            cache = None

            def next_logits(prompt, cache, index):
                return self.decoder.logits(prompt[:, :index])[:, -1] / temperature, None, cache

        return self.sampler(next_logits, buffer, cache=cache, index=prompt_length, mask=mask)

    def generate(self, prompt_ids, max_new_tokens, temperature=1.0, use_cache=True):
        """The `max_new_tokens` int32 ids that follow the 1-D, non-empty `prompt_ids`.

        Works eagerly and inside `tf.function` (all lengths may be tensors).
        """
        context = self.decoder.context_length
        prompt_ids = tf.cast(prompt_ids, tf.int32)
        max_new_tokens = tf.cast(max_new_tokens, tf.int32)
        temperature = tf.cast(temperature, tf.float32)
        prompt_length = tf.shape(prompt_ids)[0]
        tokens = tf.concat([prompt_ids, tf.zeros([max_new_tokens], tf.int32)], axis=0)

        def generate_chunk(produced, tokens):
            end = prompt_length + produced
            keep = tf.minimum(end, tf.where(produced == 0, context, max(context // 2, 1)))
            new = tf.minimum(context + 1 - keep, max_new_tokens - produced)
            buffer = tf.concat([tokens[end - keep : end], tf.zeros([new], tf.int32)], axis=0)[None]
            filled = self._fill(buffer, keep, temperature, use_cache)[0, keep:]
            tokens = tf.concat([tokens[:end], filled, tokens[end + new :]], axis=0)
            return produced + new, tokens

        _, tokens = tf.while_loop(
            lambda produced, tokens: produced < max_new_tokens,
            generate_chunk,
            (tf.constant(0), tokens),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([None])),
        )
        return tokens[prompt_length:]
