"""Translating with a `build_translator` model: the encoder once, then the decoder one token at a time.

keras-hub's samplers (`GreedySampler`, `BeamSampler`) run the loop: each step they call `next(prompt, cache,
index)` for the logits of position `index` and write the chosen token there. With the cache, `next` feeds
only the previous token to each decoder block, which reads the keys and values of the earlier target tokens
from its self-attention cache and those of the source sentence from its cross-attention cache (computed
once, before the loop): one step costs one token. Without it (`use_cache=False`, the baseline the cache is
measured against), every step reruns the whole decoder over the whole target buffer.

Once a hypothesis has written `[END]`, its later positions are forced to `[PAD]` with probability 1, so a
finished beam keeps its score while the others go on; decoding stops when every hypothesis has ended. The
final beams are ranked by length-normalized score, since raw log-probabilities prefer short translations.

Everything is graph-compatible: the export runs `translate` inside its serving `tf.function`.
"""

import sys
import time

import keras_hub
import numpy as np
import tensorflow as tf
from keras import ops

from keras_apps import progress
from keras_apps.errors import UserError
from keras_apps.models.parts import TranslatorLayers
from keras_apps.text.translation_tokens import END_ID, PAD_ID, SPECIAL_TOKENS, START_ID


LENGTH_PENALTY = 0.6  # GNMT's alpha (Wu et al., 2016)


def build_sampler(beam_size):
    """keras-hub's greedy sampler for `beam_size` 1, its beam search otherwise (returning every beam, so
    that `Translator.translate` can pick the best by length-normalized score)."""
    if beam_size < 1:
        raise UserError(f"the beam size must be at least 1, got {beam_size}")
    if beam_size == 1:
        return keras_hub.samplers.GreedySampler()
    return keras_hub.samplers.BeamSampler(num_beams=beam_size, return_all_beams=True)


class Translator:
    """The layers of a `build_translator` model (`keras_apps.models.parts.TranslatorLayers`), run for decoding."""

    def __init__(self, model):
        self.model = model
        layers = TranslatorLayers.of(model)
        self.source_embedding = layers.source_embedding
        self.encoders = layers.encoders
        self.encoder_norm = layers.encoder_norm
        self.target_embedding = layers.target_embedding
        self.decoders = layers.decoders
        self.decoder_norm = layers.decoder_norm
        self.output_layer = layers.logits
        self.max_length = self.target_embedding.position_embedding.sequence_length
        self.num_heads = self.decoders[0].num_heads
        self.head_dim = self.target_embedding.token_embedding.output_dim // self.num_heads

    def encode(self, source_ids):
        """The encoder's output for `[batch, length]` source ids, and their padding mask."""
        source_mask = ops.not_equal(source_ids, PAD_ID)
        x = self.source_embedding(source_ids)
        for encoder in self.encoders:
            x = encoder(x, padding_mask=source_mask)
        return self.encoder_norm(x), source_mask

    def _empty_cache(self, batch_size, length):
        """One `[batch, 2 (keys, values), length, heads, head_dim]` tensor of zeros per decoder block."""
        shape = [batch_size, 2, length, self.num_heads, self.head_dim]
        return tuple(ops.zeros(shape, dtype=self.model.compute_dtype) for _ in self.decoders)

    def _decode(self, target_ids, encoded, source_mask, caches=None, index=None, fill_cross_cache=False):
        """Logits of the decoder over `target_ids` (at positions `index…` when `caches` is given), and the
        updated `(self_attention, cross_attention)` caches; `fill_cross_cache` computes the cross-attention
        keys and values from `encoded` (the first call) instead of reading them."""
        start = 0 if index is None else index
        x = self.target_embedding.token_embedding(target_ids)
        x = x + self.target_embedding.position_embedding(x, start_index=start)
        updated_self, updated_cross = [], []
        for number, decoder in enumerate(self.decoders):
            if caches is None:
                x = decoder(x, encoded, encoder_padding_mask=source_mask)
                continue
            self_cache, cross_cache = caches
            x, layer_self_cache, layer_cross_cache = decoder(
                x, encoded, encoder_padding_mask=source_mask,
                self_attention_cache=self_cache[number], self_attention_cache_update_index=index,
                cross_attention_cache=cross_cache[number],
                cross_attention_cache_update_index=0 if fill_cross_cache else None,
            )
            updated_self.append(layer_self_cache)
            updated_cross.append(layer_cross_cache)
        logits = self.output_layer(self.decoder_norm(x))
        if caches is None:
            return logits, None
        return logits, (tuple(updated_self), tuple(updated_cross))

    def logits(self, source_ids, target_ids):
        """The whole model, no cache: what each cached step must reproduce."""
        inputs = {"source_ids": source_ids, "target_ids": target_ids}
        return self.model({name: tf.convert_to_tensor(ids, tf.int32) for name, ids in inputs.items()}, training=False)

    def translate(self, source_ids, sampler, max_length=None, use_cache=True, stop_at_end=True):
        """Target ids `[batch, max_length]` (`[START]` first, then the translation, `[END]`, padding) for
        `[batch, length]` source ids; `max_length` defaults to the model's and cannot exceed it. Without
        `stop_at_end`, the loop runs all `max_length - 1` steps even when every hypothesis has ended."""
        max_length = min(max_length or self.max_length, self.max_length)
        source_ids = tf.convert_to_tensor(source_ids, tf.int32)
        batch_size = tf.shape(source_ids)[0]
        encoded, source_mask = self.encode(source_ids)
        prompt = tf.concat([tf.fill([batch_size, 1], START_ID), tf.fill([batch_size, max_length - 1], PAD_ID)], 1)
        prompt_mask = tf.concat([tf.ones([batch_size, 1], tf.bool), tf.zeros([batch_size, max_length - 1], tf.bool)],
                                axis=1)

        if use_cache:
            self_cache = self._empty_cache(batch_size, max_length)
            cross_cache = self._empty_cache(batch_size, tf.shape(source_ids)[1])
            # One pass over `[START]` fills both caches (cross-attention's from the encoder output).
            _, (self_cache, cross_cache) = self._decode(prompt[:, :1], encoded, source_mask,
                                                        (self_cache, cross_cache), index=0,
                                                        fill_cross_cache=True)
            # The beam sampler copies and reorders everything in the cache per beam; the encoder output and
            # mask ride along so that each hypothesis attends to its own sentence.
            cache = (self_cache, cross_cache, encoded, source_mask)

            def next_logits(prompt, cache, index):
                self_cache, cross_cache, encoded, source_mask = cache
                previous = prompt[:, index - 1 : index]
                logits, (self_cache, cross_cache) = self._decode(
                    previous, encoded, source_mask, (self_cache, cross_cache), index=index - 1
                )
                return _finished_to_padding(logits[:, 0], previous[:, 0]), None, (
                    self_cache, cross_cache, encoded, source_mask)
        else:
            cache = (encoded, source_mask)

            def next_logits(prompt, cache, index):
                encoded, source_mask = cache
                logits, _ = self._decode(prompt, encoded, source_mask)
                previous = prompt[:, index - 1]
                return _finished_to_padding(tf.gather(logits, index - 1, axis=1), previous), None, cache

        output = sampler(next_logits, prompt, cache=cache, index=1, mask=prompt_mask,
                         stop_token_ids=[END_ID] if stop_at_end else None)
        return _best_beams(*output) if isinstance(output, tuple) else output


def _best_beams(beams, log_probabilities, alpha=LENGTH_PENALTY):
    """From all beams `[batch, beams, length]`, the one with the best GNMT length-normalized score,
    log P / ((5 + length) / 6) ** alpha: raw log-probabilities favour short translations, every token
    costing some."""
    lengths = tf.reduce_sum(tf.cast(beams[:, :, 1:] != PAD_ID, tf.float32), axis=-1)  # tokens after [START]
    scores = log_probabilities / ((5.0 + lengths) / 6.0) ** alpha
    return tf.gather(beams, tf.argmax(scores, axis=1, output_type=tf.int32), axis=1, batch_dims=1)


def _finished_to_padding(logits, previous_token):
    """Logits that choose `[PAD]` with certainty after `[END]` or `[PAD]`; `logits` elsewhere."""
    finished = (previous_token == END_ID) | (previous_token == PAD_ID)
    logits = tf.cast(logits, tf.float32)
    padding = tf.one_hot(tf.fill(tf.shape(previous_token), PAD_ID), tf.shape(logits)[-1], on_value=0.0,
                         off_value=-1e9)
    return tf.where(finished[:, None], padding, logits)


def decoding_speed(translator, *, tokens=40, batch_sizes=(1, 64), repeats=5):
    """Tokens per second of greedy decoding with and without the cache, `tokens` new tokens per sentence
    (fewer if the model reads fewer: `tokens` in the result says how many), median of `repeats` timed runs,
    for each of `batch_sizes`: `{"tokens", "repeats", "batches": [{"batch_size", "cached_tokens_per_second",
    "uncached_tokens_per_second", "speedup"}, …]}`."""
    tokens = min(tokens, translator.max_length - 1)
    decoders = {
        name: tf.function(lambda source_ids, use_cache=use_cache: translator.translate(
            source_ids, keras_hub.samplers.GreedySampler(), tokens + 1, use_cache=use_cache, stop_at_end=False))
        for name, use_cache in (("cached", True), ("uncached", False))
    }
    result = {"tokens": tokens, "repeats": repeats, "batches": []}
    for batch_size in batch_sizes:
        source_ids = tf.fill([batch_size, 16], len(SPECIAL_TOKENS))  # content is irrelevant: every step runs
        row = {"batch_size": batch_size}
        for name, decode in decoders.items():
            decode(source_ids)  # traces
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                decode(source_ids).numpy()
                seconds.append(time.perf_counter() - start)
            row[f"{name}_tokens_per_second"] = tokens * batch_size / float(np.median(seconds))
        row["speedup"] = row["cached_tokens_per_second"] / row["uncached_tokens_per_second"]
        result["batches"].append(row)
    return result


def speedups_in_words(speed):
    """`decoding_speed`'s result as a summary line says it: `1.9x, 3.2x the tokens per second of uncached at batch
    1 and 64`."""
    rows = speed["batches"]
    return (", ".join(f"{row['speedup']:.1f}x" for row in rows) + " the tokens per second of uncached at batch "
            + " and ".join(str(row["batch_size"]) for row in rows))


def translate_all(serve, sentences, batch_size=256):
    """The translations of `sentences` by a `translate` serving function, in their order, `batch_size` at a time.

    Batches are made of sentences of similar lengths: a batch decodes until its longest translation ends,
    so mixing lengths would keep short sentences waiting (and padding them).
    """
    order = sorted(range(len(sentences)), key=lambda index: len(sentences[index]))
    translations = [""] * len(sentences)
    shown = progress.bar(len(sentences), "sentence")
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        batch = serve(tf.constant([sentences[index] for index in indices]))["translations"].numpy()
        for index, text in zip(indices, batch):
            translations[index] = text.decode("utf-8")
        shown.add(len(indices))
    return translations


class SourceLengths:
    """How many source tokens a translation export reads (its `max_length`; the rest of a sentence is cut before
    the encoder, `translation_endpoint`), and how many each of some sentences has."""

    def __init__(self, export_path):
        from keras_apps.export.saved_model import export_metadata
        from keras_apps.text.translation_tokens import SentenceTokenizer, load_vocabulary

        self.max_length = export_metadata(export_path)["max_length"]
        self.tokenizer = SentenceTokenizer(load_vocabulary(export_path / "source_vocabulary.txt"), self.max_length)

    def __call__(self, sentences):
        return self.tokenizer.token_ids(tf.constant(sentences)).row_lengths().numpy()


def note_cut_sentences(export_path, sentences):
    """Prints to stderr a note for each of `sentences` longer than a translation export reads (`SourceLengths`), so
    that a partial translation is not taken for a whole one."""
    reads = SourceLengths(export_path)
    for number, length in enumerate(reads(sentences), start=1):
        if length > reads.max_length:
            print(f"note: sentence {number} is {length} tokens long; the model reads its first {reads.max_length}, "
                  f"and the rest is not translated", file=sys.stderr)
