"""Sampling text from a GPT with keras-hub's samplers, over a key/value cache, in a TensorFlow graph.

The sampler decides each token (`compute_probabilities`, then `get_next_token`: greedy, top-k, top-p or
plain random); the loop around it is ours rather than `Sampler.__call__`'s, because that loop always runs
to the end of its buffer, and here the buffer has one fixed shape (which XLA needs) while the number of
tokens wanted varies.

A model with learned positions reads at most `context_length` tokens. Generation runs in chunks: the first
conditions on the last `context_length` tokens of the prompt and fills the context; each later chunk
starts again from the last half of the context (one forward pass over those tokens fills a fresh cache)
and fills it again. Every new token therefore sees between half and all of the context, and costs one
cached step, plus one re-read of half a context per half a context generated.

Everything here is graph-compatible, so the whole loop can live inside an exported `tf.function`.
"""

import functools
import sys

import keras_hub
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.inference.cached_decoding import CachedDecoder
from keras_apps.inference.generation_options import SAMPLERS


# The samplers' settings and their defaults, each the setting of the sampler of its name.
SAMPLER_SETTINGS = {"top_k": 40, "top_p": 0.9}


def sampling_settings(sampler, **given):
    """What a run samples with, as its export records it: `sampler` and every setting, `given` (the command
    line's, None where not given) or its default. A setting given to a sampler that does not use it is refused
    in one line: recorded, it would claim an effect it has none of."""
    for setting, value in given.items():
        if value is not None and setting != sampler:
            flag = f"--{setting.replace('_', '-')}"
            raise UserError(f"{flag} is for the {setting} sampler, not --sampler {sampler}: leave it out or choose "
                            f"--sampler {setting}")
    return {"sampler": sampler, **{setting: default if given.get(setting) is None else given[setting]
                                   for setting, default in SAMPLER_SETTINGS.items()}}


def build_sampler(name, vocabulary_size, *, top_k=SAMPLER_SETTINGS["top_k"], top_p=SAMPLER_SETTINGS["top_p"],
                  seed=None):
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


def recorded_sampler(recorded, vocabulary_size):
    """The sampler an export records in its `export.json` (`sampler`, with its `top_k` and `top_p`), for a copy of
    it (compressed, tuned) that must sample as it does; one made before they were recorded used the defaults."""
    return build_sampler(recorded["sampler"], vocabulary_size,
                         **{setting: recorded[setting] for setting in ("top_k", "top_p") if setting in recorded})


def reseed(sampler, seed):
    """Restarts a random sampler's generator at `seed` (a tensor is fine), so a seeded call repeats."""
    generator = getattr(sampler, "seed_generator", None)
    if generator is not None:
        generator.state.assign(tf.cast(tf.stack([seed, 0]), generator.state.dtype))


class TextGenerator:
    """Continues a sequence of token ids with a `build_gpt` model and a keras-hub sampler.

    Each chunk is filled by one XLA-compiled function over a buffer of fixed shape (one context plus the
    token it predicts), so that a cached step is a single fused computation rather than hundreds of small
    graph ops. Without the cache (`use_cache=False`, the baseline the cache is measured against) each step
    reruns the model over that whole buffer, as a fixed-shape implementation without a cache must.
    """

    def __init__(self, model, sampler):
        self.decoder = CachedDecoder(model)
        self.sampler = sampler
        self.context_length = self.decoder.context_length
        self._fill_functions = {
            use_cache: tf.function(functools.partial(self._fill, use_cache=use_cache), jit_compile=True)
            for use_cache in (True, False)
        }

    def _next_logits(self, buffer, cache, index, use_cache):
        """The logits of the token at `index` in each row, from the tokens before it."""
        if use_cache:
            previous_tokens = tf.slice(buffer, [0, index - 1], [-1, 1])
            logits, cache = self.decoder.call_with_cache(previous_tokens, cache, index - 1)
            return logits[:, 0], cache
        logits = self.decoder.logits(buffer[:, : self.context_length])
        return tf.gather(logits, index - 1, axis=1), cache

    def _fill(self, buffer, start, end, temperature, use_cache):
        """Samples `buffer[:, start:end]` given `buffer[:, :start]`; `buffer` is `[batch, context_length + 1]`."""
        rows = tf.shape(buffer)[0]
        cache = tf.zeros([])
        if use_cache:  # one pass over the window fills the keys and values of its tokens
            cache = self.decoder.empty_cache(rows, self.context_length + 1)
            _, cache = self.decoder.call_with_cache(buffer[:, : self.context_length], cache, 0)

        def step(index, buffer, cache):
            logits, cache = self._next_logits(buffer, cache, index, use_cache)
            probabilities = self.sampler.compute_probabilities(logits / temperature)
            tokens = tf.cast(self.sampler.get_next_token(probabilities), tf.int32)
            positions = tf.stack([tf.range(rows), tf.fill([rows], index)], axis=1)
            return index + 1, tf.tensor_scatter_nd_update(buffer, positions, tokens), cache

        _, buffer, _ = tf.while_loop(lambda index, *_: index < end, step, (start, buffer, cache))
        return buffer

    def generate(self, prompt_ids, max_new_tokens, temperature=1.0, use_cache=True):
        """The `max_new_tokens` int32 ids that follow the 1-D, non-empty `prompt_ids`.

        Works eagerly and inside `tf.function` (all lengths may be tensors).
        """
        return self.generate_batch(tf.cast(prompt_ids, tf.int32)[None], max_new_tokens, temperature, use_cache)[0]

    def generate_batch(self, prompt_ids, max_new_tokens, temperature=1.0, use_cache=True):
        """`[batch, max_new_tokens]` int32 ids that follow each row of `prompt_ids` (`[batch, length]`, length
        ≥ 1): the rows decode side by side, one step of the model for all of them per token."""
        context = self.context_length
        prompt_ids = tf.cast(prompt_ids, tf.int32)
        max_new_tokens = tf.cast(max_new_tokens, tf.int32)
        temperature = tf.cast(temperature, tf.float32)
        rows, prompt_length = tf.shape(prompt_ids)[0], tf.shape(prompt_ids)[1]
        tokens = tf.concat([prompt_ids, tf.zeros([rows, max_new_tokens], tf.int32)], axis=1)

        def generate_chunk(produced, tokens):
            end = prompt_length + produced
            keep = tf.minimum(end, tf.where(produced == 0, context, max(context // 2, 1)))
            new = tf.minimum(context + 1 - keep, max_new_tokens - produced)
            window = tokens[:, end - keep : end]
            buffer = tf.concat([window, tf.zeros([rows, context + 1 - keep], tf.int32)], axis=1)
            buffer = tf.ensure_shape(buffer, [prompt_ids.shape[0], context + 1])
            filled = self._fill_functions[use_cache](buffer, keep, keep + new, temperature)
            tokens = tf.concat([tokens[:, :end], filled[:, keep : keep + new], tokens[:, end + new :]], axis=1)
            return produced + new, tokens

        _, tokens = tf.while_loop(
            lambda produced, tokens: produced < max_new_tokens,
            generate_chunk,
            (tf.constant(0), tokens),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([prompt_ids.shape[0], None])),
        )
        return tokens[:, prompt_length:]


def decoding_tokens_per_second(model, new_tokens=256, repeats=3, use_cache=True, batch_size=1):
    """Tokens per second of greedy generation by `model` (a `build_gpt` model) from a one-token prompt in
    each of `batch_size` rows (all rows' tokens counted), each call inside a `tf.function`: the median of
    `repeats` timed calls after one that traces and compiles."""
    import statistics
    import time

    generator = TextGenerator(model, build_sampler("greedy", model.output_shape[-1]))
    generate = tf.function(lambda prompts: generator.generate_batch(prompts, new_tokens, use_cache=use_cache))
    prompts = tf.ones([batch_size, 1], tf.int32)
    generate(prompts).numpy()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate(prompts).numpy()
        seconds.append(time.perf_counter() - start)
    return batch_size * new_tokens / statistics.median(seconds)


def note_unknown_prompt_tokens(export_path, prompt):
    """Prints to stderr a note when a GPT export's vocabulary (its `tokenizer.json`) lacks some of `prompt`'s
    characters or words, as the export reads the prompt (a GPT of reviews, as a review: `imdb.corpus_lines`; a
    curly quote pasted into a prompt for Tiny Shakespeare's 65 characters): the model reads each as one unknown
    token, which the text it returns, the prompt as given, does not show."""
    from keras_apps.data.imdb import corpus_lines
    from keras_apps.data.text_corpus import learned_reviews
    from keras_apps.export.saved_model import export_metadata
    from keras_apps.text.characters import load_tokenizer, unknown_tokens

    if learned_reviews(export_metadata(export_path).get("text")):
        prompt = corpus_lines(tf.constant(prompt)).numpy().decode("utf-8")
    unknown, tokens = unknown_tokens(load_tokenizer(export_path / "tokenizer.json"), prompt)
    if unknown:
        print(f"note: {unknown} of the prompt's {tokens} tokens {'is' if unknown == 1 else 'are'} not in the model's "
              f"vocabulary; it reads each as an unknown token", file=sys.stderr)
