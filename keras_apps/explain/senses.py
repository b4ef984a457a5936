"""Which sense decided each answer of a model that sees and hears: its answer with both, and with each removed.

Removing a sense is what the model was trained to cope with (modality dropout), so the answer without it is
a fair counterfactual, not an input the model never met. The probability the answer loses when a sense is
removed is that sense's share; whether the answer changes says who decided it.
"""

from dataclasses import dataclass

import numpy as np

DECISIONS = ("either sense alone", "the image", "the audio", "both together")


@dataclass(frozen=True)
class SenseShares:
    """Per example: the `answer` with both senses, and the probability of that answer it loses without each."""

    answer: np.ndarray  # int [n]
    image_share: np.ndarray  # float [n]: P(answer | both) - P(answer | audio alone)
    audio_share: np.ndarray  # float [n]: P(answer | both) - P(answer | image alone)
    decided_by: np.ndarray  # int [n]: an index into DECISIONS

    def examples(self, per_decision=2):
        """Indices of up to `per_decision` examples decided each way (`DECISIONS`), in order of decision."""
        return [index for decision in range(len(DECISIONS))
                for index in np.flatnonzero(self.decided_by == decision)[:per_decision]]

    def summary(self):
        """`{"image_share", "audio_share"}` means and the fraction of answers each of `DECISIONS` decided."""
        fractions = np.bincount(self.decided_by, minlength=len(DECISIONS)) / max(len(self.answer), 1)
        return {"image_share": float(self.image_share.mean()), "audio_share": float(self.audio_share.mean()),
                "decided_by": {name: float(value) for name, value in zip(DECISIONS, fractions)}}


def sense_shares(both, image_alone, audio_alone):
    """`SenseShares` from class probabilities `[n, classes]` with both senses, with the image alone (the audio
    removed) and with the audio alone (the image removed)."""
    answer = both.argmax(axis=1)
    rows = np.arange(len(answer))
    needs_image = audio_alone.argmax(axis=1) != answer  # the audio alone answers otherwise
    needs_audio = image_alone.argmax(axis=1) != answer
    decided_by = np.select([needs_image & needs_audio, needs_image, needs_audio], [3, 1, 2], default=0)
    return SenseShares(answer, both[rows, answer] - audio_alone[rows, answer],
                       both[rows, answer] - image_alone[rows, answer], decided_by)
