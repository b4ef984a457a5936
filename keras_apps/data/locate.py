"""Where a dataset file lives: `--data-dir`, then `$KERAS_APPS_DATA`, then Keras's own cache.

A file found in any of them is used where it is. A missing file is downloaded from its canonical source
into the first of those directories; when that fails (no network), the error names the file, every
directory searched and the flag to set.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from keras_apps.errors import UserError

DATA_DIR_ENV = "KERAS_APPS_DATA"


@dataclass(frozen=True)
class RemoteFile:
    """A dataset file by its canonical name, with where to download it and, when known, its sha256."""

    name: str
    origin: str
    sha256: str | None = None


def candidate_directories(data_dir=None):
    """The directories searched for data files, in order of precedence."""
    candidates = []
    if data_dir:
        candidates.append(Path(data_dir).expanduser())
    if os.environ.get(DATA_DIR_ENV):
        candidates.append(Path(os.environ[DATA_DIR_ENV]).expanduser())
    candidates.append(Path("~/.keras/datasets").expanduser())
    return candidates


def _download(remote, directory):
    # Imported here so that reading a local file never pays for Keras's import.
    import keras

    return Path(
        keras.utils.get_file(
            fname=remote.name,
            origin=remote.origin,
            file_hash=remote.sha256,
            cache_dir=str(directory),
            cache_subdir="",
        )
    )


def locate(remote, data_dir=None, *, download=None):
    """Returns the path of `remote` on this machine, downloading it when it is nowhere to be found."""
    if data_dir is not None and not _looked_up(Path(data_dir).expanduser(), Path.is_dir):
        raise UserError(f"--data-dir {data_dir} is not a directory")
    directories = candidate_directories(data_dir)
    for directory in directories:
        path = directory / remote.name
        if _looked_up(path, Path.is_file):
            return path
    try:
        return (download or _download)(remote, directories[0])
    except Exception as exc:  # get_file raises URLError, HTTPError, OSError, or Exception on a bad hash.
        searched = ", ".join(str(directory) for directory in directories)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(
            f"{remote.name} not found (searched {searched}) and the download from {remote.origin} failed "
            f"({reason}); put the file in a directory and pass --data-dir DIR or set {DATA_DIR_ENV}"
        ) from exc


def _looked_up(path, test):
    """`test(path)` (`Path.is_file`, `Path.is_dir`); a folder on the way that cannot be searched (permission
    denied) is a one-line error, not skipped: the file the user put there would be reported missing, or fetched."""
    try:
        return test(path)
    except OSError as exc:
        raise UserError(f"cannot look for {path}: {exc.strerror or exc}") from None
