"""A GPT on LiteRT: its forward pass converted to a `.tflite` file, scored and decoded by the LiteRT interpreter.

What converts is the model's forward pass, token ids `[batch, context]` in, logits out (the `logits` signature),
not the export's `generate`: that signature holds the tokenizer's lookup table (`HashTableV2`, which LiteRT has no
kernel for) and an XLA decoding loop. The forward pass converts once it computes in float32 (in bfloat16 the
position embedding's `BroadcastTo` has no LiteRT kernel), written by `keras.export.ExportArchive`. An app runs the
decoding loop and the tokenizer itself, as on-device language-model apps do; with no key/value cache in the file,
each new token is one forward pass over the whole context window, so decoding is measured that way.
"""

import tempfile

import numpy as np

from keras_apps.compress import litert
from keras_apps.compress.measure import median_latency_ms

SIGNATURE = "logits"
VARIANTS = litert.VARIANTS


def spread_windows(token_ids, context_length, count):
    """`count` windows of `context_length` tokens spread evenly over `token_ids` (fewer where it is short)."""
    token_ids = np.asarray(token_ids, np.int32)
    last = len(token_ids) - context_length
    if last < 0:
        raise ValueError(f"{len(token_ids)} tokens do not fill a window of {context_length}")
    starts = np.unique(np.linspace(0, last, count).astype(int))
    return np.stack([token_ids[start:start + context_length] for start in starts])


def convert(model, variant, calibration_windows=None):
    """The `.tflite` bytes of `model`'s (a `build_gpt` model) forward pass, computed in float32, quantized as
    `variant` (`litert.convert`); full-integer `int8` records its activations' ranges on `calibration_windows`
    (token ids `[windows, context]` of training text)."""
    import keras
    import tensorflow as tf

    from keras_apps.compress.variants import with_dtype_policy
    from keras_apps.models.parts import GPTLayers

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    model = with_dtype_policy(model, "float32")
    context_length = GPTLayers.of(model).position_embedding.sequence_length
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE, lambda token_ids: {"logits": model(token_ids, training=False)},
                         input_signature=[tf.TensorSpec([None, context_length], tf.int32, name="token_ids")])
    with tempfile.TemporaryDirectory() as saved_model:
        archive.write_out(saved_model, verbose=False)
        representative = None if calibration_windows is None else [
            {"token_ids": np.asarray(window, np.int32)[None]} for window in calibration_windows]
        return litert.convert(saved_model, variant, signature=SIGNATURE, representative=representative)


class LiteRTGPT:
    """A converted GPT on the interpreter: `logits(token_ids)`, its loss over windows and its decoding speed."""

    def __init__(self, model_content, num_threads=None):
        self.runner = litert.LiteRTModel(model_content, signature=SIGNATURE, num_threads=num_threads)
        self.context_length = int(self.runner.input_details["token_ids"]["shape_signature"][1])

    def logits(self, token_ids):
        return self.runner(token_ids=token_ids)["logits"]

    def loss(self, windows):
        """The mean next-token cross-entropy over every token of `windows` (batches of `(token ids, next ids)`),
        as Keras's `evaluate` of the same windows computes it."""
        total = count = 0.0
        for inputs, targets in windows:
            logits = self.logits(np.asarray(inputs)).astype(np.float64)
            logits -= logits.max(axis=-1, keepdims=True)
            log_normalizer = np.log(np.exp(logits).sum(axis=-1))
            picked = np.take_along_axis(logits, np.asarray(targets)[..., None], axis=-1)[..., 0]
            total += float(np.sum(log_normalizer - picked))
            count += picked.size
        if not count:
            raise ValueError("a loss over no windows")
        return total / count

    def greedy(self, prompts, new_tokens):
        """`prompts` (token ids `[batch, length]`) continued by `new_tokens` greedy tokens each, the window filled
        from the left. Each new token is a forward pass over the whole window, whatever its position: rows are
        padded after their last token, which a causal model never reads."""
        prompts = np.asarray(prompts, np.int32)
        length = prompts.shape[1]
        if length + new_tokens > self.context_length:
            raise ValueError(f"{length} + {new_tokens} tokens do not fit a window of {self.context_length}")
        tokens = np.zeros([len(prompts), self.context_length], np.int32)
        tokens[:, :length] = prompts
        for position in range(length - 1, length - 1 + new_tokens):
            tokens[:, position + 1] = self.logits(tokens)[:, position].argmax(axis=-1)
        return tokens[:, :length + new_tokens]

    def decoding_tokens_per_second(self, batch_size, new_tokens=None, repeats=3):
        """Tokens per second of `greedy` decoding of `new_tokens` (default: 32, or the window less the prompt)
        from a one-token prompt in each of `batch_size` rows (every row's tokens counted): the median of `repeats`
        timed runs after an untimed one. Every token costs a whole window's forward pass, so a few measure the
        rate of many."""
        new_tokens = new_tokens or min(32, self.context_length - 1)
        milliseconds = median_latency_ms(lambda prompts: self.greedy(prompts, new_tokens),
                                         np.ones([batch_size, 1], np.int32), warmup=1, runs=repeats)
        return batch_size * new_tokens / (milliseconds / 1000)
