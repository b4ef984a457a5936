"""The numbered versions of an export folder (TF Serving's layout), read without TensorFlow: what a process
that only launches others (the RLHF pipeline) needs to know whether a stage's export was published."""

from pathlib import Path

from keras_apps.errors import UserError


def versions(export_root):
    """The integer versions present under `export_root`, ascending."""
    root = Path(export_root)
    if not root.is_dir():
        return []
    numbered = [path for path in root.iterdir() if _is_number(path.name) and path.is_dir()]
    for path in numbered:  # TF Serving would serve "007" as version 7; this suite would look for a folder "7"
        if path.name != str(int(path.name)):
            raise UserError(f"{path} is a version folder named with leading zeros: rename it "
                            f"{root / str(int(path.name))}")
    return sorted(int(path.name) for path in numbered)


def _is_number(name):
    """A version folder's name: ASCII digits, as TF Serving reads them (`str.isdigit` takes "²" too, which `int`
    refuses)."""
    return name.isascii() and name.isdigit()
