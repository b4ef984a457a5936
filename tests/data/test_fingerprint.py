import numpy as np

from keras_apps.data.fingerprint import fingerprint


def test_fingerprint_tells_data_apart_and_is_stable():
    texts, labels = ["a good film", "a bad film"], np.array([1, 0])
    assert fingerprint(texts, labels) == fingerprint(list(texts), labels.copy())
    assert fingerprint(texts, labels) != fingerprint(texts, labels[::-1].copy())
    assert fingerprint(texts, labels) != fingerprint(["a good film", "a bad movie"], labels)
    assert fingerprint("abc") != fingerprint("abd")
