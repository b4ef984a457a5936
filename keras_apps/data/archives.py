"""Unpacking a dataset archive once, atomically and safely.

An archive is extracted into a temporary sibling of its target folder and renamed into place only when
complete, so an interrupted extraction never leaves a half-filled folder that a later run would trust.
Members that would land outside the target (absolute paths, `..`, links pointing out) are refused.
"""

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path

from keras_apps import files
from keras_apps.errors import UserError

CACHE_ENV = "KERAS_APPS_CACHE"
# What reading or unpacking an archive raises: the decoders' complaints about its bytes, and the system's.
READ_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError)


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
    try:
        with open(archive, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise read_error(archive, exc) from None
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
        _check_nothing_after_the_end(handle)


def _check_nothing_after_the_end(handle):
    """Reads the archive on from where `tarfile` stopped to the end of its compressed stream.

    `tarfile` stops at the end-of-archive block, so gzip's CRC, the only check of the members' bytes, was never
    read: a flipped bit was extracted silently. And it takes a damaged header for that block, extracting only the
    members before it: after a true end there are only zeros (the padding of the last record).
    """
    while block := handle.fileobj.read(1 << 20):
        if any(block):
            raise tarfile.ReadError("a damaged header hides the members after it")


def extract(archive, target):
    """Extracts `archive` (.tar.gz, .tgz, .tar or .zip) into the folder `target` unless it exists already.

    Returns `target`. A corrupt or unsafe archive is a `UserError` and leaves no `target` behind.
    """
    archive, target = Path(archive), Path(target)
    if target.is_dir():
        return target
    extractor = _extract_zip if archive.suffix == ".zip" else _extract_tar
    try:
        with _extracting(target):
            if target.is_dir():  # another process (a second worker, a parallel test) extracted it meanwhile
                return target
            with files.atomic_path(target, directory=True) as temporary:
                extractor(archive, temporary)
    except FileExistsError:
        if not target.is_dir():
            raise
        # Storage that cannot lock: another process finished extracting first.
    except READ_ERRORS as exc:
        if isinstance(exc, tarfile.FilterError):
            raise UserError(f"{archive} holds a member that would land outside the extraction folder ({exc})")
        raise read_error(archive, exc, extracting_into=target.parent) from None
    return target


@contextlib.contextmanager
def _extracting(target):
    """Holds the cache folder's lock (an advisory `flock` on the folder itself) while `target` is extracted into
    it: a second process extracting the same archive waits for the first, then finds its folder. Held, it removes
    what a killed extraction left (`.<target>.tmp-*`, up to IMDB's 412 MB each), which no live process can be
    writing. On storage that cannot lock, extracts unheld and removes nothing."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"the cache folder {target.parent} is a file, or inside one; set {CACHE_ENV} to a folder "
                        "(or remove that file)") from None
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
        except OSError:
            yield
            return
        for leftover in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        yield
    finally:
        os.close(folder)


def read_error(archive, exc, *, extracting_into=None):
    """The one-line `UserError` for `exc` (one of `READ_ERRORS`), raised reading `archive` or extracting it into
    the cache folder `extracting_into`.

    Only a fault in the archive's bytes is called corrupt, with the advice to fetch it again: a read refused, a
    full disk, would be the same with a fresh copy. An `OSError` without an errno is a decoder's (`BadGzipFile`).
    """
    if not isinstance(exc, OSError) or exc.errno is None:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__  # tarfile's can run to many lines
        return UserError(f"{archive} is corrupt or truncated ({reason}); delete it and fetch it again")
    if exc.errno == errno.ENOSPC and extracting_into is not None:
        return UserError(f"the disk of the cache folder {extracting_into} is full, so {archive} cannot be "
                         f"extracted; free space on it or set {CACHE_ENV} to a folder on another disk")
    elsewhere = f"{exc.filename}: " if exc.filename is not None and str(exc.filename) != str(archive) else ""
    action = "read" if extracting_into is None else "extract"
    return UserError(f"cannot {action} {archive}: {elsewhere}{exc.strerror or exc}")
