"""Atomic writes (a reader sees the old file or the new one, never half of either), and reads and checks that fail
in one line."""

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from keras_apps.errors import UserError


@contextlib.contextmanager
def atomic_path(target, *, directory=False, suffix=None):
    """Yields a temporary sibling of `target`; on success it is renamed over `target`.

    The temporary lives in the same folder so the final `os.replace` is a rename on one file system. On any
    exception the temporary is removed and `target` is left exactly as it was. A directory target that
    already exists is not replaced (`os.replace` cannot swap non-empty directories atomically): callers
    that write directories pick fresh names. A file's temporary ends in `suffix` (default: the target's),
    for writers that insist on one (Keras: `.weights.h5`). A file target that is a folder, or that cannot be
    started (under a file, in a folder it cannot write), is a one-line error (`check_writable_file`, asked only
    then: the temporary's own creation is the probe). What is published gets the modes of a plain `open(target,
    "w")` or `mkdir` (`new_temporary`). A file target that is a symbolic link is written through it, as `open`
    would: the link's target is replaced, and the link kept. A file whose replacing is refused (an immutable one) is
    a one-line error, and left as it was.
    """
    target = Path(target)
    if not directory and target.is_dir():
        check_writable_file(target)
    if not directory and target.is_symlink():
        target = target.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        suffix = "" if directory else suffix or target.suffix
        temporary = new_temporary(target.parent, _temporary_prefix(target, suffix), suffix, directory=directory)
    except OSError:
        check_writable_file(target)  # says why in one line
        raise
    try:
        yield temporary
        if directory and target.exists():
            raise FileExistsError(f"{target} already exists; refusing to replace a directory")
        if target.is_file():
            shutil.copymode(target, temporary)  # as `open(target, "w")` would, an overwrite keeps the file's mode
        try:
            os.replace(temporary, target)
        except OSError as exc:
            if directory or storage_full(exc):
                raise
            raise UserError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        raise


_TEMPORARY = re.compile(r"\..+\.tmp-[0-9a-f]{16}[^/]*")  # `atomic_path`'s, named by `new_temporary`


def _temporary_prefix(target, suffix=""):
    """`.<name>.tmp-`: how the temporaries of `target` are named before their 16 random hex digits and `suffix`
    (`_TEMPORARY`). `name` is the target's, cut short where the whole would pass the file system's limit on a name
    (255 bytes on most): a target whose name is legal must not fail on its temporary's."""
    name = os.fsencode(target.name)
    room = os.pathconf(target.parent, "PC_NAME_MAX") - len(os.fsencode(f"..tmp-{'0' * 16}{suffix}"))
    return f".{target.name if len(name) <= room else name[:room].decode('utf-8', 'ignore')}.tmp-"


def new_temporary(folder, prefix, suffix="", *, directory=False):
    """Creates an empty file (or folder) `folder/<prefix><random><suffix>` and returns its path.

    Created as a plain `open`/`mkdir` creates, so that the kernel applies the umask (0666 or 0777 less it): what
    is published from it can be read by whom the user lets read their files (TF Serving under a service account).
    `tempfile.mkstemp`/`mkdtemp` would make it private (0600, 0700), and reading the umask means setting it.
    """
    temporary = Path(folder) / f"{prefix}{secrets.token_hex(8)}{suffix}"  # 64 random bits: no retry for a clash
    if directory:
        temporary.mkdir()
    else:
        temporary.touch(exist_ok=False)
    return temporary


def replace_folder(source, target):
    """Copies the folder `source` to `target`, whose earlier contents stay whole until the copy is: a command killed
    while copying leaves them and a temporary, never a part of each. The copy is made beside `target` and swapped
    in by two renames (`os.replace` cannot swap non-empty folders in one)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    copy = new_temporary(target.parent, _temporary_prefix(target), directory=True)
    try:
        shutil.copytree(source, copy, dirs_exist_ok=True)
    except BaseException:
        shutil.rmtree(copy, ignore_errors=True)
        raise
    aside = target.with_name(f"{_temporary_prefix(target)}{secrets.token_hex(8)}")
    if target.exists():
        os.replace(target, aside)
    os.replace(copy, target)
    shutil.rmtree(aside, ignore_errors=True)


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path, value):
    """Writes `value` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def write_weights(model, path):
    """Writes `model`'s weights (and its optimizer's) to the `.weights.h5` file `path` atomically.

    HDF5 is not let near a full disk: a file it runs out of space for mid-write, h5py cannot close, and the process
    crashes (h5py/h5py#914; here a segmentation fault with nothing said). A folder without room for the file (its
    variables' bytes and HDF5's own records of each) is refused first, as a full disk, which says how to go on."""
    with atomic_path(path, suffix=".weights.h5") as temporary:
        optimizer = getattr(model, "optimizer", None)  # a model never compiled has none
        variables = [*model.weights, *(optimizer.variables if optimizer is not None else [])]
        needed = WEIGHTS_FILE_OVERHEAD + sum(WEIGHTS_VARIABLE_OVERHEAD + _bytes_of(v) for v in variables)
        if shutil.disk_usage(temporary.parent).free < needed:
            raise OSError(errno.ENOSPC, STORAGE_FULL[errno.ENOSPC], str(path))
        model.save_weights(temporary)


# What a `.weights.h5` file holds besides its variables' bytes, with room to spare: measured, 62 KB for a 12-layer
# stack's 74 variables (its own and its optimizer's).
WEIGHTS_FILE_OVERHEAD = 256 * 1024
WEIGHTS_VARIABLE_OVERHEAD = 4 * 1024


def _bytes_of(variable):
    import tensorflow as tf  # in here: task command lines import this module before TensorFlow

    return math.prod(variable.shape) * tf.as_dtype(variable.dtype).size


def read_text(path):
    """The text of a UTF-8 file, less the byte-order mark some editors (Windows Notepad) write first, which is
    not text (a model would read it as an unknown character); a one-line error for an unreadable file or one that
    is not UTF-8 (binary, or another encoding: read with its bytes replaced, it would be answered as if it were
    text)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text (invalid byte at offset {exc.start})") from None


def read_lines(path, keep_blank=False):
    """The lines of a UTF-8 text file (`read_text`), its blank ones left out unless `keep_blank`."""
    return [line for line in split_lines(read_text(path)) if keep_blank or line.strip()]


def split_lines(text):
    """`text`'s lines as an editor shows them: ended by a newline, a carriage return or both. Python's
    `str.splitlines` also ends one at a form feed (which pdftotext writes at every page break), a vertical tab,
    U+0085 (cp1252's ellipsis, in 1,358 of IMDB's reviews), U+2028 or U+2029: characters inside a line, which split
    there put each answer after it beside the wrong line."""
    lines = _LINE_END.split(text)
    return lines[:-1] if lines[-1] == "" else lines


_LINE_END = re.compile(r"\r\n|\r|\n")


def entries_besides(folder, kept):
    """The names in `folder` other than `kept` and the temporaries of `atomic_path` (one a command killed between
    its write and its rename leaves), shown as a refusal names them ("a, b, c and 4 more"); "" when it holds no
    others (or does not exist)."""
    folder = Path(folder)
    others = sorted(path.name for path in folder.iterdir()
                    if path.name not in kept and not _TEMPORARY.fullmatch(path.name)) if folder.is_dir() else []
    return ", ".join(others[:3]) + (f" and {len(others) - 3:,} more" if len(others) > 3 else "")


def digest(path):
    """The SHA-256 of a file's bytes, or of a folder's files (their paths inside it and their bytes, in order of
    path); a one-line error for one that cannot be read."""
    path, sha = Path(path), hashlib.sha256()
    members = sorted(member for member in path.rglob("*") if member.is_file()) if path.is_dir() else [path]
    try:
        for member in members:
            if member != path:
                sha.update(member.relative_to(path).as_posix().encode() + b"\0")
            with open(member, "rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    sha.update(block)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    return sha.hexdigest()


def check_writable_directory(path, flag):
    """Raises a one-line `UserError` unless `path` is a folder, or can be made one, that this process can write.

    Checked before a run starts, so that a folder it cannot write is not found after hours of training. The
    probe writes and removes a file in the nearest folder that exists, and creates nothing else.
    """
    _check_writable_folder(Path(path), f"{flag} {path}")


def check_writable_file(path, flag=None):
    """Raises a one-line `UserError` unless a file can be written at `path` (`flag`: the option naming it): not a
    folder, in a folder that this process can write or make. Checked before the work whose result it holds (an
    explanation, a plot), and by `atomic_path` for the files it writes."""
    path = Path(path)
    named = f"{flag} {path}" if flag else str(path)
    if path.is_dir():
        raise UserError(f"{named} is a folder; name a file to write")
    _check_writable_folder(path.parent, named)


def _check_writable_folder(folder, named):
    """`check_writable_directory` of `folder`, its errors naming `named` (the folder, or a file to go in it)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a link to nothing: nothing can be made in its place, nor through it
            raise UserError(f"{named} cannot be written: {existing} is a link to {os.readlink(existing)}, which does "
                            f"not exist")
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{named} cannot be written: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise UserError(f"{named} is not writable: {exc.strerror or exc}") from None


# What the system says when a write is refused for want of space, by errno.
STORAGE_FULL = {errno.ENOSPC: "No space left on device", errno.EDQUOT: "Disk quota exceeded"}
# What it says when a write is refused in a folder this user may not write (any more: remounted read-only).
ACCESS_REFUSED = {errno.EROFS: "Read-only file system", errno.EACCES: "Permission denied",
                  errno.EPERM: "Operation not permitted"}


def storage_full(exc):
    """The system's reason (`STORAGE_FULL`) when `exc`, or an error it was raised from, is a write refused for want
    of space (a full disk, a quota reached), else None. Python's `OSError`s carry the errno; h5py's and TensorFlow's
    errors carry the system's message in their text."""
    return _system_reason(exc, STORAGE_FULL)


def access_refused(exc):
    """The system's reason (`ACCESS_REFUSED`) when `exc`, or an error it was raised from, is an access the system
    refused (a read-only file system, a permission), else None; found as `storage_full` finds its own."""
    return _system_reason(exc, ACCESS_REFUSED)


def _system_reason(exc, reasons):
    while exc is not None:
        if getattr(exc, "errno", None) in reasons:
            return reasons[exc.errno]
        reason = next((reason for reason in reasons.values() if reason in str(exc)), None)
        if reason:
            return reason
        exc = exc.__cause__ or exc.__context__
    return None
