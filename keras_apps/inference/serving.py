"""Serving endpoints: the functions an export's signatures run, each a raw input in and an answer out.

Each wraps a trained model with what serving needs around it (text encoding, the sampling or beam-search
loop, checks of what comes in), beside the inference code it calls. `keras_apps.export.saved_model` writes
them into a SavedModel; the tasks call them in training too, so that what is scored is what is served.
"""

import tensorflow as tf

from keras_apps.data.imdb import corpus_lines
from keras_apps.inference.generation_options import MAX_NEW_TOKENS
from keras_apps.inference.text_generation import TextGenerator, recorded_sampler, reseed
from keras_apps.inference.translation import Translator, build_sampler
from keras_apps.models.speech import LogMelSpectrogram, frame_levels
from keras_apps.models.speech_frames import SILENT_DBFS
from keras_apps.text.normalize import MAX_BYTES, sanitize


def _class_outputs(logits):
    """A classifier's answer from its logits: `probabilities` and the predicted `class`."""
    probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    return {"probabilities": probabilities, "class": tf.argmax(probabilities, axis=-1, output_type=tf.int32)}


def _class_answer(logits, batch_size, num_classes):
    """`_class_outputs` of `logits()`, or the empty answer to an empty batch without calling `logits`: the
    model's convolutions fail on an empty batch ("input depth must be evenly divisible by filter depth")."""
    return tf.cond(batch_size > 0, lambda: _class_outputs(logits()),
                   lambda: _class_outputs(tf.zeros([0, num_classes])))


def classifier_endpoint(model, input_spec):
    """A serving function: raw inputs in, `probabilities` and the predicted `class` out.

    The inputs' shape is checked against `input_spec`'s in the graph: a reloaded signature does not check
    it, and a model may answer a wrong shape (`[batch, 28, 28, 1]` images) instead of refusing it.
    """

    def serve(inputs):
        inputs = tf.ensure_shape(inputs, input_spec.shape)
        return _class_answer(lambda: model(inputs, training=False), tf.shape(inputs)[0], model.outputs[0].shape[-1])

    return serve, [input_spec]


def _front_end(model):
    """`model`'s log-mel front end (nested models searched too): its frame length is the least audio the model
    hears, its sampling rate the audio's."""
    for layer in model._flatten_layers():  # noqa: SLF001 (Keras's walk of nested layers, as elsewhere here)
        if isinstance(layer, LogMelSpectrogram):
            return layer
    raise ValueError(f"{model.name} has no LogMelSpectrogram layer: it does not hear audio")


def _audio_checks(audio, lengths, least):
    """The checks of padded audio with its lengths: a finite sample each, a length per recording, each length
    at least `least` and within the padded audio."""
    return [tf.debugging.assert_all_finite(audio, "audio: every sample must be a finite number"),
            tf.debugging.assert_equal(tf.shape(lengths)[0], tf.shape(audio)[0], message="lengths: one per recording"),
            tf.debugging.assert_greater_equal(lengths, least, message=f"lengths: at least {least} samples"),
            tf.debugging.assert_less_equal(lengths, tf.shape(audio)[1],
                                           message="lengths: at most the padded audio's samples")]


# What a text classifier's `serving_default` takes (its export's `inputs`), and does with what it is given.
RAW_TEXTS = (f"texts: string [batch] (raw text: invalid UTF-8 replaced, HTML's line breaks and escapes read; one "
             f"whose cleaned text is over {MAX_BYTES:,} bytes read from its first and last {MAX_BYTES // 2:,}; a blank "
             "one answered too)")
AUDIO_SPECS = [tf.TensorSpec([None, None], tf.float32, name="audio"), tf.TensorSpec([None], tf.int32, name="lengths")]
# What an audio endpoint takes (its export's `inputs`), and does with it.
RECORDED_AUDIO = ("audio: float32 [batch, samples] (mono 8 kHz in [-1, 1], zero-padded, as recorded: the model "
                  "cuts the silence before and after the word off, keras_apps.models.speech.WordAlone)")


def audio_classifier_endpoint(model):
    """A serving function: `audio` (float32 `[batch, samples]`, zero-padded, as recorded) and `lengths` (int32
    `[batch]`, where each recording ends) in, `probabilities` and the predicted `class` out (the model hears each
    word alone: `keras_apps.models.speech.WordAlone`). Non-finite samples, recordings shorter than one analysis
    frame or silent (nothing to hear: the answer would be a guess) and lengths past the padded audio are refused
    rather than answered."""
    front_end = _front_end(model)

    def serve(audio, lengths):
        checks = _audio_checks(audio, lengths, front_end.frame_length)
        with tf.control_dependencies(checks):
            loudest = tf.reduce_max(frame_levels(audio, lengths, front_end.sampling_rate), axis=1)
        heard = tf.debugging.assert_greater_equal(loudest, float(SILENT_DBFS), message="audio: a recording with no "
                                                  f"{front_end.frame_length}-sample frame louder than {SILENT_DBFS} "
                                                  "dBFS is silent")
        with tf.control_dependencies([heard]):
            return _class_answer(lambda: model({"audio": audio, "lengths": lengths}, training=False),
                                 tf.shape(audio)[0], model.outputs[0].shape[-1])

    return serve, AUDIO_SPECS


def audio_visual_endpoint(model, senses):
    """A serving function: `image` (uint8 `[batch, 28, 28]`; all zeros when there is none) and `audio` with its
    `lengths` (as `audio_classifier_endpoint`'s, heard alike; length 0 when there is none) in;
    `probabilities`, the predicted `class`, and `used_image` and `used_audio` (bool `[batch]`: what each answer
    came from) out. The model (`keras_apps.models.build_digit_fusion`) uses `senses`; audio shorter than one
    analysis frame or silent has nothing to hear, so it counts as none (and the model gets length 0); an example
    with neither sense is refused."""
    front_end = _front_end(model) if "audio" in senses else None
    least = front_end.frame_length if front_end else 0
    nothing = {"image": "a blank image is none", "audio": f"audio shorter than one analysis frame ({least} samples) "
               f"or silent (no frame louder than {SILENT_DBFS} dBFS) is none"}

    def serve(image, audio, lengths):
        image = tf.ensure_shape(image, [None, 28, 28])
        used_image = tf.logical_and(tf.reduce_max(tf.reshape(image, [tf.shape(image)[0], -1]), axis=1) > 0,
                                    "image" in senses)
        checks = _audio_checks(audio, lengths, 0) + [
            tf.debugging.assert_equal(tf.shape(image)[0], tf.shape(audio)[0], message="image: one per recording")]
        with tf.control_dependencies(checks):
            if front_end is None:
                used_audio = tf.zeros_like(used_image)
            else:
                loudest = tf.reduce_max(frame_levels(audio, lengths, front_end.sampling_rate), axis=1)
                used_audio = (lengths >= least) & (loudest >= SILENT_DBFS)
        anything = tf.debugging.assert_equal(tf.reduce_all(used_image | used_audio), True,
                                             message=f"every example needs {' or '.join(senses)}: "
                                             + ", and ".join(nothing[sense] for sense in senses))
        heard = {"image": image, "audio": audio, "lengths": tf.where(used_audio, lengths, 0)}
        with tf.control_dependencies([anything]):
            outputs = _class_answer(lambda: model(heard, training=False)["digit"], tf.shape(image)[0],
                                    model.output["digit"].shape[-1])
        return {**outputs, "used_image": used_image, "used_audio": used_audio}

    return serve, [tf.TensorSpec([None, 28, 28], tf.uint8, name="image"), *AUDIO_SPECS]


def _binary_outputs(logits):
    """`probability` of the positive class from a single logit per example, and `label` (1 at >= 0.5)."""
    probability = tf.sigmoid(tf.cast(logits, tf.float32)[:, 0])
    return {"probability": probability, "label": tf.cast(probability >= 0.5, tf.int32)}


def _sanitized_batch(texts):
    """A batch of texts, sanitized (`keras_apps.text.normalize.sanitize`). A reloaded signature does not check
    its inputs' shape: a scalar or a matrix of texts is refused here rather than answered as some other batch."""
    return sanitize(tf.ensure_shape(texts, [None]))


def binary_text_classifier_endpoint(model, encode):
    """A serving function: a batch of raw `tf.string` texts in, `probability` (of the positive class, from
    the model's single logit) and `label` (1 when that probability is at least 0.5) out.

    `encode` maps sanitized strings to the model's inputs (a tokenizer, a vectorizer); it runs inside the
    graph, so clients send text, not token ids.
    """

    def serve(texts):
        return _binary_outputs(model(encode(_sanitized_batch(texts)), training=False))

    return serve, [tf.TensorSpec([None], tf.string, name="texts")]


def binary_classifier_endpoint(model):
    """`binary_text_classifier_endpoint` without the text: the model's (dense) inputs in, named `inputs` for a
    model of one, by their own names for a model of several (BERT's `token_ids`, `segment_ids`, `padding_mask`).

    With `text_encoding_endpoint` it splits the text pipeline in two: the half that LiteRT can run (the
    network; its string ops are outside LiteRT's op set) and the half that stays in TensorFlow. Non-finite
    float inputs are refused: a NaN feature would otherwise come out, silently, as label 0; so are negative ids,
    which Keras's embedding lookup reads from the vocabulary's end (-1 as its last token).
    """
    named = {"inputs": model.inputs[0]} if len(model.inputs) == 1 else model.input
    input_signature = [tf.TensorSpec(tensor.shape, tensor.dtype, name=name) for name, tensor in named.items()]

    def checked(tensor):
        if tensor.dtype.is_floating:
            return tf.debugging.assert_all_finite(tensor, "score: every input must be a finite number")
        with tf.control_dependencies([tf.debugging.assert_non_negative(
                tensor, message="score: token ids, segment ids and masks are never negative")]):
            return tf.identity(tensor)

    def score(*inputs):
        inputs = [checked(tensor) for tensor in inputs]
        return _binary_outputs(model(inputs[0] if len(inputs) == 1 else dict(zip(named, inputs)), training=False))

    return score, input_signature


def text_encoding_endpoint(encode):
    """A batch of raw texts in, what the model reads out as dense tensors: `inputs`, or the model's several
    inputs by name."""

    def encode_texts(texts):
        inputs = encode(_sanitized_batch(texts))
        if isinstance(inputs, dict):
            return inputs
        if isinstance(inputs, tf.SparseTensor):
            inputs = tf.sparse.to_dense(inputs)
        return {"inputs": inputs}

    return encode_texts, [tf.TensorSpec([None], tf.string, name="texts")]


def reward_endpoint(reward_model, tokenizer, length):
    """A `score` function: a batch of raw `tf.string` texts in, each one's `reward` out (a float: higher is
    preferred), read by `reward_model` from the text's start, at most `length` tokens
    (`keras_apps.preference.openings`)."""
    from keras_apps.preference.openings import review_openings

    def score(texts):
        return {"reward": reward_model(review_openings(tokenizer, _sanitized_batch(texts), length), training=False)}

    return score, [tf.TensorSpec([None], tf.string, name="texts")]


def text_generation_endpoint(model, tokenizer, sampler, start_text="\n", reviews=False):
    """A `generate` function: `prompt` (a `tf.string` scalar), `max_new_tokens`, `temperature` and `seed` in;
    `completion` (the new text) and `text` (prompt then completion) out, the sampling loop in the graph.

    A GPT of the review corpus (`reviews`: the RLHF stages' GPTs, which learned cleaned reviews, one a line) is
    served as those stages sample it: it reads a prompt as a review's opening, after a line break and written as
    the corpus writes a review (`imdb.corpus_lines`: a review pasted from a page's source, `<br />` and `&quot;`,
    reads as the same review typed), and its completion ends where its review does, at the first line break.
    `text` holds the prompt as given. An empty prompt starts from `start_text` (a new line, as at the start of a
    speech); invalid UTF-8 in a prompt is replaced (U+FFFD), not dropped; a prompt longer than the context keeps
    its last `context_length` tokens; `max_new_tokens` is clipped to [0, `MAX_NEW_TOKENS`] and `temperature` to at
    least 1e-3. Refused: an input that is not a scalar (a reloaded signature does not check shapes, and a batch of
    prompts gets one completion glued onto each) and a `temperature` that is not positive and finite (no clipping
    makes it a temperature; the command line refuses it too).
    """
    generator = TextGenerator(model, sampler)

    def generate(prompt, max_new_tokens, temperature, seed):
        prompt, max_new_tokens, temperature, seed = (tf.ensure_shape(value, [])
                                                     for value in (prompt, max_new_tokens, temperature, seed))
        prompt = tf.strings.unicode_transcode(prompt, "UTF-8", "UTF-8", errors="replace")
        token_ids = tokenizer.tokenize("\n" + corpus_lines(prompt) if reviews else prompt)
        token_ids = tf.cond(
            tf.size(token_ids) > 0, lambda: token_ids, lambda: tokenizer.tokenize(tf.constant(start_text))
        )
        reseed(sampler, seed)
        temperature = tf.debugging.assert_all_finite(temperature, "generate: temperature must be a finite number")
        with tf.control_dependencies([tf.debugging.assert_positive(temperature,
                                                                   message="generate: temperature must be positive")]):
            new_ids = generator.generate(
                token_ids, tf.clip_by_value(max_new_tokens, 0, MAX_NEW_TOKENS), tf.maximum(temperature, 1e-3)
            )
        completion = tokenizer.detokenize(new_ids)
        if reviews:
            completion = tf.strings.regex_replace(completion, "(?s)\n.*", "")
        return {"completion": completion, "text": prompt + completion}

    signature = [
        tf.TensorSpec([], tf.string, name="prompt"),
        tf.TensorSpec([], tf.int32, name="max_new_tokens"),
        tf.TensorSpec([], tf.float32, name="temperature"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ]
    return generate, signature


def recorded_generation_endpoint(model, tokenizer, recorded):
    """`text_generation_endpoint` for a GPT as its export records it (`recorded`: its `export.json`, or what it will
    hold): its sampler (`recorded_sampler`), and, learned from the review corpus (`learned_reviews`), its prompts
    read as reviews' openings, so that its compressed and tuned copies serve as it does."""
    from keras_apps.data.text_corpus import learned_reviews

    return text_generation_endpoint(model, tokenizer, recorded_sampler(recorded, tokenizer.vocabulary_size()),
                                    reviews=learned_reviews(recorded.get("text")))


def translation_endpoint(model, source_tokenizer, target_tokenizer, beam_size):
    """A serving function: a batch of raw `tf.string` sentences in, their `translations` out, the whole
    decoding loop (greedy for `beam_size` 1, beam search otherwise) inside the graph.

    Sentences longer than the model reads are cut to its `max_length` tokens; a sentence with no tokens
    (empty, or only spaces) gets an empty translation, as it has nothing to attend to.
    """
    translator = Translator(model)
    sampler = build_sampler(beam_size)

    def translate(sentences):
        source_ids = source_tokenizer.encode_source(_sanitized_batch(sentences))
        width = tf.maximum(tf.reduce_max(source_ids.row_lengths()), 1)  # at least one (padding) position
        source_ids = source_ids.to_tensor(shape=tf.stack([source_ids.nrows(), width]))
        target_ids = translator.translate(source_ids, sampler)
        has_tokens = tf.reduce_any(source_ids != 0, axis=1)
        return {"translations": tf.where(has_tokens, target_tokenizer.decode(target_ids), "")}

    return translate, [tf.TensorSpec([None], tf.string, name="sentences")]


def text_classifier_endpoints(model, encode):
    """A text classifier's signatures: `serving_default` (raw texts in); `encode` (raw texts to the network's
    inputs) and `score` (the network alone, which `compress` converts)."""
    return {"serving_default": binary_text_classifier_endpoint(model, encode),
            "encode": text_encoding_endpoint(encode), "score": binary_classifier_endpoint(model)}
