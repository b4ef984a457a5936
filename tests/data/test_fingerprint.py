import numpy as np

from keras_apps.data.fingerprint import fingerprint


def test_fingerprint_tells_data_apart_and_is_stable():
    texts, labels = ["a good film", "a bad film"], np.array([1, 0])
    assert fingerprint(texts, labels) == fingerprint(list(texts), labels.copy())
    assert fingerprint(texts, labels) != fingerprint(texts, labels[::-1].copy())
    assert fingerprint(texts, labels) != fingerprint(["a good film", "a bad movie"], labels)
    assert fingerprint("abc") != fingerprint("abd")


def test_a_list_of_recordings_counts_every_sample_and_where_each_recording_ends():
    recordings = [np.zeros(2000, np.float32), np.ones(1000, np.float32)]
    changed = [recordings[0].copy(), recordings[1]]
    changed[0][1000] = 0.5  # a sample an array's printed summary ("[0. 0. 0. ... 0. 0. 0.]") leaves out
    assert fingerprint(recordings) == fingerprint([recording.copy() for recording in recordings])
    assert fingerprint(recordings) != fingerprint(changed)
    assert fingerprint(recordings) != fingerprint([np.zeros(1500, np.float32), np.zeros(500, np.float32),
                                                   np.ones(1000, np.float32)])


def test_where_each_string_and_each_part_ends_counts():
    assert fingerprint(["ab", "c"]) != fingerprint(["a", "bc"])
    assert fingerprint(["a"], ["b"]) != fingerprint(["a", "b"])
    assert fingerprint("ab", "c") != fingerprint("a", "bc")
