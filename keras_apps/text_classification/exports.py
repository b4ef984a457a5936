"""Using a text classifier's export: P(positive) of raw texts, one review explained word by word, and the
network behind its text encoding as a subject for compression."""

import numpy as np
import tensorflow as tf

from keras_apps.errors import UserError


def scores(serve, texts, batch_size=500):
    """P(positive) for each text, from an export's serving signature, `batch_size` texts a call."""
    outputs = [serve(texts=tf.constant(texts[start:start + batch_size], tf.string))["probability"].numpy()
               for start in range(0, len(texts), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros(0, np.float32)


def encode_signature(export_path, task):
    """The export's `encode` signature (raw texts → the network's dense inputs)."""
    from keras_apps.export.saved_model import load_serving

    try:
        return load_serving(export_path, signature="encode", task=task)[1]
    except UserError:
        raise UserError(f"{export_path} has no 'encode' signature: BERT exports and exports older than this "
                        "command are not supported; train and export again") from None


def explain_review(export_path, task, review, steps):
    """`(summary, words, attributions)`: integrated gradients of the export's logit for `review`, on its n-gram
    features (summed onto the words that form them) or its token embeddings (summed onto whole words)."""
    from keras_apps.data.imdb import clean
    from keras_apps.explain.text import (
        explain_features, explain_tokens, word_attributions, wordpiece_words, words,
    )
    from keras_apps.export.saved_model import load_keras_model
    from keras_apps.text.vocabulary import load_vocabulary

    export_path, model = load_keras_model(export_path, task)
    inputs = encode_signature(export_path, task)(texts=tf.constant([review]))["inputs"].numpy()[0]
    if (export_path / "ngrams.txt").is_file():
        ngrams = (export_path / "ngrams.txt").read_text(encoding="utf-8").split("\n")
        attribution = explain_features(model, inputs, steps=steps)
        present = {ngrams[index]: float(attribution.values[index]) for index in np.flatnonzero(inputs)}
        tokens = words(clean(review))
        values = word_attributions(tokens, present)
    else:
        vocabulary = load_vocabulary(export_path / "vocabulary.txt")
        attribution, token_ids = explain_tokens(model, inputs, steps=steps)
        tokens, values = wordpiece_words([vocabulary[index] for index in token_ids], attribution.values)
    probability = 1 / (1 + np.exp(-attribution.output))
    summary = (f"{'positive' if probability >= 0.5 else 'negative'}, P(positive) {probability:.3f}. Integrated "
               f"gradients of the logit ({attribution.output:+.3f}; {attribution.baseline_output:+.3f} with no "
               f"input) over {steps} steps; the attributions sum to {attribution.values.sum():+.3f} (completeness "
               f"gap {attribution.completeness_gap:.4f}). Model: {export_path}.")
    return summary, tokens, values


def network_subject(export_path, task, test, train_texts, timing_texts, *, representative_examples, seed,
                    batch=128):
    """The export's network (after its text encoding, which LiteRT cannot run) as a `suite.Subject`: scored on
    the `test` reviews, calibrated on `representative_examples` of `train_texts`, timed on `timing_texts`. Dense
    n-gram features are 800 KB a review, so the test set is encoded and scored `batch` reviews at a time."""
    from keras_apps.compress import suite
    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.inference.serving import binary_classifier_endpoint

    export_path = resolve_task_export(export_path, task)
    encode = encode_signature(export_path, task)

    def encoded(texts):
        return {"inputs": encode(texts=tf.constant(texts, tf.string))["inputs"].numpy()}

    return suite.Subject(
        export_path=export_path, signature="score", endpoint=binary_classifier_endpoint, label_output="label",
        test_batches=lambda: ((encoded(test.texts[start:start + batch]), test.labels[start:start + batch])
                              for start in range(0, len(test), batch)),
        representative=[encoded(train_texts[index:index + 1])
                        for index in suite.sample(representative_examples, len(train_texts), seed)],
        timing_batch=encoded(timing_texts),
    )
