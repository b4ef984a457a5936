"""Unpacking a dataset archive once, atomically and safely.

An archive is extracted into a temporary sibling of its target folder and renamed into place only when
complete, so an interrupted extraction never leaves a half-filled folder that a later run would trust.
Members that would land outside the target (absolute paths, `..`, links pointing out) are refused.
"""

import hashlib
import os
import tarfile
import zipfile
from pathlib import Path

from keras_apps import files
from keras_apps.errors import UserError

CACHE_ENV = "KERAS_APPS_CACHE"


def cache_directory():
    """Where extracted datasets live: `$KERAS_APPS_CACHE`, else `~/.cache/keras-apps`.

    Kept apart from the data directory, which may be shared or read-only.
    """
    return Path(os.environ.get(CACHE_ENV) or "~/.cache/keras-apps").expanduser()


def cached_extraction(archive, name):
    """The cache folder holding `archive` extracted, named `name-<hash of its content>`; extracted the first time.

    Named after the content, not only the file name: a changed, truncated or corrupt archive under the same
    name is extracted (and so checked) anew, never answered from the cache of the file that was there before.
    """
    digest = hashlib.sha256()
    with open(archive, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return extract(archive, cache_directory() / f"{name}-{digest.hexdigest()[:16]}")


def _extract_zip(archive, destination):
    with zipfile.ZipFile(archive) as handle:
        for member in handle.namelist():
            path = (destination / member).resolve()
            if not path.is_relative_to(destination.resolve()):
                raise UserError(f"{archive} holds {member!r}, which would land outside the extraction folder")
        handle.extractall(destination)


def _extract_tar(archive, destination):
    with tarfile.open(archive) as handle:
        # The "data" filter (PEP 706) refuses absolute paths, `..`, links out of the folder and devices.
        handle.extractall(destination, filter="data")


def extract(archive, target):
    """Extracts `archive` (.tar.gz, .tgz, .tar or .zip) into the folder `target` unless it exists already.

    Returns `target`. A corrupt or unsafe archive is a `UserError` and leaves no `target` behind.
    """
    archive, target = Path(archive), Path(target)
    if target.is_dir():
        return target
    extractor = _extract_zip if archive.suffix == ".zip" else _extract_tar
    try:
        with files.atomic_path(target, directory=True) as temporary:
            extractor(archive, temporary)
    except FileExistsError:
        if not target.is_dir():
            raise
        # Another process (a second worker on this machine, a parallel test) finished extracting first.
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, tarfile.FilterError):
            raise UserError(f"{archive} holds a member that would land outside the extraction folder ({exc})")
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__  # tarfile's can run to many lines
        raise UserError(f"{archive} is corrupt or truncated ({reason}); fetch it again")
    return target
