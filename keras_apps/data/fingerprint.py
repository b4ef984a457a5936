"""The fingerprint of the data a run learns from: a short hash a run records (`config.json`) to tell a rerun
on other data apart (`keras_apps.lifecycle`), and an export records of the text it learned
(`keras_apps.data.text_corpus`)."""

import hashlib

import numpy as np


def fingerprint(*parts):
    """A short hash of the data a run learns from, to tell it apart: each part an array, a string, or a list of
    strings or of arrays (recordings of their own lengths: every sample counts, not an array's printed summary).
    Arrays are hashed whole, at the hash's speed (MNIST's 47 MB of training images: about 0.1 s)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            _add_array(digest, part)
        elif isinstance(part, str):
            digest.update(part.encode("utf-8", "surrogatepass"))
        else:
            for item in part:
                if isinstance(item, np.ndarray):
                    _add_array(digest, item)
                else:
                    digest.update(str(item).encode("utf-8", "surrogatepass") + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()[:16]


def _add_array(digest, array):
    digest.update(f"{array.dtype}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).data)  # no copy where the array is already contiguous
