"""The fingerprint of the data a run learns from: a short hash a run records (`config.json`) to tell a rerun
on other data apart (`keras_apps.lifecycle`), and an export records of the text it learned
(`keras_apps.data.text_corpus`)."""

import hashlib

import numpy as np


def fingerprint(*parts):
    """A short hash of the data a run learns from (arrays, strings, or lists of strings), to tell it apart."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, str):
            digest.update(part.encode("utf-8", "surrogatepass"))
        else:
            for item in part:
                digest.update(str(item).encode("utf-8", "surrogatepass") + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()[:16]
