"""What a policy is tuned against, one number for each sample (`evaluation.Samples`): the reward model learned
from the reviewers' star ratings (`python -m tasks.rlhf reward`), or a sentiment classifier of this suite (any
IMDB export), whose log-odds of a positive review is the reward, as in the DPO paper's IMDb experiment and
TRL's (there a fine-tuned sentiment classifier's logit)."""

import numpy as np

from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID

# The classifier's probabilities are clipped this far from 0 and 1 before their log-odds (±13.8 nats).
PROBABILITY_FLOOR = 1e-6


class LearnedReward:
    """A reward model (`models.build_reward_model`) reading each sample's tokens, `[NL]` first; `export` the export
    version it came from, which the runs tuned against it record."""

    def __init__(self, model, batch_size=256, *, export=None):
        self.model, self.batch_size, self.export = model, batch_size, export

    def __call__(self, samples):
        return np.asarray(self.model.predict(samples.sequences(), batch_size=self.batch_size, verbose=0))


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
    texts = tokenizer.detokenize(np.where(sequences == NEWLINE_ID, PAD_ID, sequences))
    return np.concatenate([serve(texts=texts[start: start + batch_size])["probability"].numpy()
                           for start in range(0, len(sequences), batch_size)])
