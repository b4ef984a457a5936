"""The numbered versions of an export folder (TF Serving's layout), read without TensorFlow: what a process
that only launches others (the RLHF pipeline) needs to know whether a stage's export was published."""

from pathlib import Path


def versions(export_root):
    """The integer versions present under `export_root`, ascending."""
    root = Path(export_root)
    if not root.is_dir():
        return []
    return sorted(int(path.name) for path in root.iterdir() if _is_number(path.name) and path.is_dir())


def _is_number(name):
    """A version folder's name: ASCII digits, as TF Serving reads them (`str.isdigit` takes "²" too, which `int`
    refuses)."""
    return name.isascii() and name.isdigit()
