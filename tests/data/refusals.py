"""Simulated refusals for the readers' tests, which run as root (whom file permissions never refuse a read)."""

import builtins
import errno
import io
import os


def refuse_opening(monkeypatch, path, code=errno.EACCES):
    """Makes opening `path` fail as the system would with `code` (permission denied by default)."""
    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == os.fspath(path):
            raise OSError(code, os.strerror(code), os.fspath(path))  # OSError picks the subclass (PermissionError)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    monkeypatch.setattr(io, "open", refusing_open)
