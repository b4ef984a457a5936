"""Using a text classifier's export: P(positive) of raw texts, a review explained word by word, and the
network behind its text encoding as a subject for compression."""

import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from keras_apps import progress
from keras_apps.data.imdb import has_words
from keras_apps.errors import UserError
from keras_apps.explain import perturbation
from keras_apps.explain.perturbation import Explanation
from keras_apps.text.normalize import MAX_BYTES, as_raw_text, served_text
from keras_apps.text.vocabulary import PAD_ID
from keras_apps.text_classification.encoders import head_length


def scores(serve, texts, batch_size=500, unit=None):
    """P(positive) for each text, from an export's serving signature, `batch_size` texts a call; with `unit` (e.g.
    "review"), a progress bar counts them (a BERT export scores IMDB's test split in over a minute on a CPU)."""
    shown = progress.bar(len(texts), unit) if unit else None
    outputs = []
    for batch in scored_batches(serve, texts, batch_size):
        outputs.append(batch)
        if shown:
            shown.add(len(batch))
    return np.concatenate(outputs) if outputs else np.zeros(0, np.float32)


def scored_batches(serve, texts, batch_size=500):
    """`scores` a batch at a time, as each is scored: for answers shown as they come."""
    for start in range(0, len(texts), batch_size):
        yield serve(texts=tf.constant(texts[start:start + batch_size], tf.string))["probability"].numpy()


def read_words(review):
    """Whether the serving signature reads a word of `review`: `imdb.has_words` of the text it reads
    (`served_text`, a review's ends where it is over `MAX_BYTES`); in TensorFlow only for such a long review, as
    the cleaning never lengthens a text."""
    return has_words(served_text(review) if len(review.encode("utf-8", "replace")) > MAX_BYTES else review)


def encode_signature(export_path, task):
    """The export's `encode` signature (raw texts → the network's dense inputs)."""
    from keras_apps.export.saved_model import load_serving

    try:
        return load_serving(export_path, signature="encode", task=task)[1]
    except UserError:
        raise UserError(f"{export_path} has no 'encode' signature: exports older than this command are not "
                        "supported; train and export again") from None


@dataclass(frozen=True)
class ReviewExplanation:
    """A review's whitespace-separated words, a value per word toward positive, and the export's P(positive)."""

    words: list
    explanation: Explanation
    probability: float
    note: str = ""  # integrated gradients: how close its attributions come to adding up

    @property
    def verdict(self):
        """The export's answer: "positive, P(positive) 0.912"."""
        return f"{'positive' if self.probability >= 0.5 else 'negative'}, P(positive) {self.probability:.3f}"

    @property
    def summary(self):
        note = f" {self.note}." if self.note else ""
        return f"{self.verdict}. {self.explanation.cost}.{note}"


class ReviewExplainer:
    """A text classifier's export, explained word by word by integrated gradients, LIME or SHAP.

    LIME and SHAP score perturbed reviews through the export's serving signature, so they explain any export,
    BERT's too. Integrated gradients runs on the Keras model the export carries: on its n-gram features
    (summed onto the words that form them) or its token embeddings (summed onto the words the tokens came
    from; tokens the head-and-tail cut left out get nothing).
    """

    def __init__(self, export_path, task):
        from keras_apps.export.saved_model import load_serving

        self.export_path, self.serve = load_serving(export_path, task=task)
        self.task = task
        self._model = self._encode = self._ngrams = None

    def probability(self, texts):
        """P(positive) of each of `texts`."""
        return scores(self.serve, list(texts))

    def explain(self, review, method="ig", *, steps=64, samples=1000, seed=0):
        """`review` explained by `method`, one value per word of the text the export serves for it (`served_text`:
        cleaned, and cut as the serving signature cuts it), toward positive."""
        text = " ".join(served_text(review).split())
        if not read_words(text):
            raise UserError("the review has no words (only markup, punctuation, control or invisible characters): "
                            "there is nothing to explain")
        probability = float(self._served_probability([text])[0])
        note = ""
        if method == "ig":
            explanation, attribution, unread = self._integrated_gradients(text, steps)
            note = (f"Integrated gradients of the logit ({attribution.output:+.3f}; {attribution.baseline_output:+.3f}"
                    f" with no input) over {steps} steps; the attributions sum to {attribution.values.sum():+.3f} "
                    f"(completeness gap {attribution.completeness_gap:.4f})")
            if unread:  # shown as 0, like words that pushed neither way
                note += (f"; {unread} of the {len(explanation.values)} words were not read by the model (past its "
                         "cut of a long review, or nothing once cleaned)")
        elif method == "lime":
            explanation = perturbation.lime_text(self._served_probability, text, samples=samples, seed=seed)
        else:
            explanation = perturbation.shap_text(self._served_probability, text, evaluations=samples)
        return ReviewExplanation(text.split(), explanation, probability, note)

    def _served_probability(self, texts):
        """P(positive) of each of `texts`, served texts or parts of one, each read as it is (`as_raw_text`)."""
        return self.probability([as_raw_text(text) for text in texts])

    @property
    def has_gradients(self):
        """Whether integrated gradients can explain this export (a network of one input: not BERT's three)."""
        try:
            self._load_network()
        except UserError:
            return False
        return True

    def _load_network(self):
        from keras_apps.export.saved_model import load_keras_model

        if self._model is None:
            try:
                self._encode = encode_signature(self.export_path, self.task)
                if set(self._encode.structured_outputs) != {"inputs"}:
                    raise UserError(f"{self.export_path} is a network of several inputs (BERT's): integrated "
                                    "gradients here reads networks of one")
            except UserError as exc:
                raise UserError(f"{exc} (--method lime or shap explains any export)") from None
            self._model = load_keras_model(self.export_path, self.task)[1]
            # Read with the network: a page that serves for hours keeps explaining the export it loaded when its
            # folder is replaced (a retrained version taking the same number) or removed.
            ngrams = self.export_path / "ngrams.txt"
            self._ngrams = ngrams.read_text(encoding="utf-8").split("\n") if ngrams.is_file() else None

    def _integrated_gradients(self, text, steps):
        """`(explanation, attribution, words the model did not read)` of `text` by integrated gradients."""
        from keras_apps.explain.text import explain_features, explain_tokens, word_attributions, words

        self._load_network()
        start = time.perf_counter()
        review_words = text.split()
        inputs = self._encode(texts=tf.constant([as_raw_text(text)]))["inputs"].numpy()[0]
        if self._ngrams is not None:
            attribution = explain_features(self._model, inputs, steps=steps)
            present = {self._ngrams[index]: float(attribution.values[index]) for index in np.flatnonzero(inputs)}
            # Standardization splits no whitespace word in two, so its words follow each other in order.
            owners = np.repeat(np.arange(len(review_words)), [len(words(word)) for word in review_words])
            values = np.bincount(owners, word_attributions(words(text), present), minlength=len(review_words))
        else:
            attribution, kept = explain_tokens(self._model, inputs, steps=steps)
            owners = self._token_owners(review_words, kept, sequence_length=len(inputs))
            values = np.bincount(owners, attribution.values, minlength=len(review_words))
        unread = len(review_words) - len(np.unique(owners))
        return Explanation(values, "ig", time.perf_counter() - start, steps + 1), attribution, unread

    def _token_owners(self, review_words, kept, sequence_length):
        """The word each of the `kept` token ids came from: the words tokenized one by one, then cut as the export
        cuts the whole text's tokens to `sequence_length` (`encoders.head_length` of them from its start, the rest
        from its end)."""
        pieces = self._encode(texts=tf.constant([as_raw_text(word) for word in review_words]))["inputs"].numpy()
        present = pieces != PAD_ID
        tokens, owners = pieces[present], np.nonzero(present)[0]
        head = len(kept) if len(tokens) <= len(kept) else head_length(sequence_length)
        tail = len(kept) - head
        if not np.array_equal(np.concatenate([tokens[:head], tokens[len(tokens) - tail:]]), kept):
            raise UserError("the export's tokens of this review are not its words' tokens; integrated gradients "
                            "cannot name the words (try --method lime or shap)")
        return np.concatenate([owners[:head], owners[len(tokens) - tail:]])


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
        return {name: tensor.numpy() for name, tensor in encode(texts=tf.constant(texts, tf.string)).items()}

    return suite.Subject(
        export_path=export_path, signature="score", endpoint=binary_classifier_endpoint, label_output="label",
        test_batches=lambda: ((encoded(test.texts[start:start + batch]), test.labels[start:start + batch])
                              for start in range(0, len(test), batch)),
        representative=[encoded(train_texts[index:index + 1])
                        for index in suite.sample(representative_examples, len(train_texts), seed)],
        timing_batch=encoded(timing_texts),
    )
