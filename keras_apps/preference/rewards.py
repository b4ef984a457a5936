"""What a policy is tuned against, one number for each sample (`evaluation.Samples`): the reward model learned
from the reviewers' star ratings (`python -m tasks.rlhf reward`), or a sentiment classifier of this suite (any
IMDB export), whose log-odds of a positive review is the reward, as in the DPO paper's IMDb experiment and
TRL's (there a fine-tuned sentiment classifier's logit)."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_apps.models import parts
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID

# The classifier's probabilities are clipped this far from 0 and 1 before their log-odds (±13.8 nats).
PROBABILITY_FLOOR = 1e-6


class LearnedReward:
    """A reward model (`models.build_reward_model`) reading each sample's tokens, `[NL]` first; `export` the export
    version it came from, which the runs tuned against it record.

    Each sample is scored as the export's `score` scores its text: padded (or cut) to the model's context length,
    by one graph of that shape (a sample's score does not depend on the shapes scored before it, so a resumed run
    matches an uninterrupted one), and without the response's closing `[NL]`, which the model never read last."""

    def __init__(self, model, batch_size=256, *, export=None):
        self.model, self.batch_size, self.export = model, batch_size, export
        self.length = _context_length(model)
        self._score = tf.function(lambda tokens: model(tokens, training=False),
                                  input_signature=[tf.TensorSpec([None, self.length], tf.int32)])

    def __call__(self, samples):
        sequences = dataclasses.replace(samples, responses=without_line_breaks(samples.responses)).sequences()
        tokens = np.full((len(sequences), self.length or sequences.shape[1]), PAD_ID, np.int32)
        width = min(sequences.shape[1], tokens.shape[1])
        tokens[:, :width] = sequences[:, :width]
        return np.concatenate([self._score(tokens[start: start + self.batch_size]).numpy()
                               for start in range(0, len(tokens), self.batch_size)])


def _context_length(model):
    """The tokens a `build_reward_model` model reads (its GPT's learned positions, as many as its export's `score`
    pads each text to); None for a model without learned positions, which reads any length."""
    if "backbone" not in {layer.name for layer in model.layers}:
        return None
    return model.get_layer("backbone").get_layer(parts.POSITION_EMBEDDING).sequence_length


class ClassifierReward:
    """log P(positive) − log P(negative) by an IMDB classifier's `serve` function, of each sample's text; `export`
    as `LearnedReward`'s."""

    def __init__(self, serve, tokenizer, *, export=None):
        self.serve, self.tokenizer, self.export = serve, tokenizer, export

    def __call__(self, samples):
        probability = judged(self.serve, self.tokenizer, samples).astype(np.float64)
        probability = np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
        return np.log(probability) - np.log1p(-probability)


def judged(serve, tokenizer, samples, batch_size=256):
    """An IMDB classifier's P(positive) of each sample's text (prompt and response, as the tokenizer writes it
    back)."""
    sequences = samples.sequences()
    texts = tokenizer.detokenize(without_line_breaks(sequences))
    return np.concatenate([serve(texts=texts[start: start + batch_size])["probability"].numpy()
                           for start in range(0, len(sequences), batch_size)])


def without_line_breaks(tokens):
    """`tokens` with each `[NL]` made `PAD_ID`: a review's line breaks are spaces to the models that judge it
    (`openings.review_openings`), and a response's closing `[NL]` (`evaluation.ended_at_line_break`) is no word."""
    return np.where(tokens == NEWLINE_ID, PAD_ID, tokens)
