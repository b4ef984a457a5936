import numpy as np

from keras_apps.explain.senses import DECISIONS, sense_shares


def one_hot_ish(classes, confidence=0.8):
    """Probabilities over 3 classes putting `confidence` on each row's class."""
    rows = np.full((len(classes), 3), (1 - confidence) / 2)
    rows[np.arange(len(classes)), classes] = confidence
    return rows


def test_who_decided_each_answer_and_how_much_each_sense_gave():
    both = one_hot_ish([0, 1, 2, 0], 0.9)
    image_alone = one_hot_ish([0, 1, 0, 1], 0.6)  # the image alone agrees on the first two answers
    audio_alone = one_hot_ish([0, 2, 2, 2], 0.7)  # the audio alone agrees on the first and third
    shares = sense_shares(both, image_alone, audio_alone)
    np.testing.assert_array_equal(shares.answer, [0, 1, 2, 0])
    assert [DECISIONS[index] for index in shares.decided_by] == [
        "either sense alone", "the image", "the audio", "both together"]
    np.testing.assert_allclose(shares.image_share, [0.9 - 0.7, 0.9 - 0.15, 0.9 - 0.7, 0.9 - 0.15])
    np.testing.assert_allclose(shares.audio_share, [0.9 - 0.6, 0.9 - 0.6, 0.9 - 0.2, 0.9 - 0.2])
    assert shares.examples(per_decision=1) == [0, 1, 2, 3]
    summary = shares.summary()
    assert summary["decided_by"] == {name: 0.25 for name in DECISIONS}
    np.testing.assert_allclose(summary["image_share"], np.mean([0.2, 0.75, 0.2, 0.75]))
