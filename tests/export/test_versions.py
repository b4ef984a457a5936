"""An export folder's versions: numbered folders only, in numeric order, read without TensorFlow."""

import subprocess
import sys

import pytest

from keras_apps.errors import UserError
from keras_apps.export.versions import versions


def test_only_numbered_folders_count_in_numeric_order(tmp_path):
    for name in ("10", "2", ".export-0123-tmp", "notes", "²", "٣"):  # digits to `isdigit`, not to TF Serving
        (tmp_path / name).mkdir()
    (tmp_path / "3").write_text("a file, not a version")
    assert versions(tmp_path) == [2, 10] and versions(tmp_path / "missing") == []


@pytest.mark.parametrize("name, number", [("007", "7"), ("00", "0")])
def test_a_version_folder_named_with_leading_zeros_is_refused_naming_its_number(tmp_path, name, number):
    """TF Serving serves "007" as version 7; this suite looked for a folder "7" and named one that is not there."""
    (tmp_path / name).mkdir()
    with pytest.raises(UserError,
                       match=rf"/{name} is a version folder named with leading zeros: rename it .*/{number}$"):
        versions(tmp_path)


def test_reading_them_does_not_import_tensorflow():
    check = "import sys, keras_apps.export.versions; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check]).returncode == 0
