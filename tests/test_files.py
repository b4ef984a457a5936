import errno
import json
import os
import stat
from pathlib import Path

import pytest

from keras_apps import files
from keras_apps.errors import UserError


def test_write_json_replaces_content(tmp_path):
    path = tmp_path / "value.json"
    files.write_json(path, {"a": 1})
    files.write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["value.json"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with files.atomic_path(path) as temporary:
            temporary.write_text("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_directory_target_is_never_replaced(tmp_path):
    target = tmp_path / "1"
    target.mkdir()
    (target / "model").write_text("good")
    with pytest.raises(FileExistsError):
        with files.atomic_path(target, directory=True) as temporary:
            (temporary / "model").write_text("new")
    assert (target / "model").read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["1"]


def test_a_folder_replaced_by_a_copy_keeps_its_contents_until_the_copy_is_whole(tmp_path, monkeypatch):
    import shutil

    source, target = tmp_path / "new", tmp_path / "kept" / "backbone"
    source.mkdir()
    (source / "a").write_text("new a")
    (source / "b").write_text("new b")
    files.replace_folder(source, target)  # where there was none
    target.joinpath("old only").write_text("old")

    def killed_after_one_file(src, dst, **kwargs):
        shutil.copy2(src, dst, **kwargs)
        raise KeyboardInterrupt

    (source / "a").write_text("newer a")
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(shutil, "copytree", lambda *args, copy=shutil.copytree, **kwargs: copy(
            *args, **kwargs, copy_function=killed_after_one_file))
        files.replace_folder(source, target)
    assert sorted(p.name for p in target.iterdir()) == ["a", "b", "old only"]  # the earlier copy, whole
    assert (target / "a").read_text() == "new a" and [p.name for p in target.parent.iterdir()] == ["backbone"]
    files.replace_folder(source, target)
    assert {p.name: p.read_text() for p in target.iterdir()} == {"a": "newer a", "b": "new b"}
    assert [p.name for p in target.parent.iterdir()] == ["backbone"]


@pytest.mark.parametrize("name, message", [
    ("folder", "{tmp}/folder is a folder; name a file to write"),
    ("a-file/x.png", "{tmp}/a-file/x.png cannot be written: {tmp}/a-file is a file, not a folder"),
])
def test_a_file_target_that_cannot_be_a_file_is_one_line_and_leaves_nothing(tmp_path, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("kept")
    with pytest.raises(UserError) as raised:
        with files.atomic_path(tmp_path / name):
            pytest.fail("nothing is written")
    assert str(raised.value) == message.format(tmp=tmp_path)
    with pytest.raises(UserError, match=f"^--output {tmp_path / name} "):  # the flag named, for a check up front
        files.check_writable_file(tmp_path / name, "--output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "folder"]
    assert not any((tmp_path / "folder").iterdir()) and (tmp_path / "a-file").read_text() == "kept"


def test_lines_of_text_that_is_not_utf8_are_refused_at_the_first_bad_byte(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Un film trop long\nMais très beau\n".encode("latin-1"))
    with pytest.raises(UserError, match=r"latin1.txt is not UTF-8 text \(invalid byte at offset 25\)$"):
        files.read_lines(tmp_path / "latin1.txt")
    (tmp_path / "utf8.txt").write_text("Un film\n\n  \nMais très beau", encoding="utf-8")
    assert files.read_lines(tmp_path / "utf8.txt") == ["Un film", "Mais très beau"]
    (tmp_path / "notepad.txt").write_text("Un film\nMais très beau", encoding="utf-8-sig")  # a byte-order mark first
    assert files.read_lines(tmp_path / "notepad.txt") == ["Un film", "Mais très beau"]
    assert files.read_text(tmp_path / "notepad.txt").startswith("Un film")


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_published_files_and_folders_get_the_modes_of_a_plain_write_under_the_umask(tmp_path, umask_022):
    files.write_text(tmp_path / "new.txt", "for everyone to read")
    with files.atomic_path(tmp_path / "folder", directory=True) as temporary:
        (temporary / "inside.txt").write_text("x")
    assert mode(tmp_path / "new.txt") == 0o644 and mode(tmp_path / "folder") == 0o755
    assert mode(tmp_path / "folder" / "inside.txt") == 0o644


def test_an_overwrite_keeps_the_files_mode(tmp_path, umask_022):
    path = tmp_path / "kept.txt"
    files.write_text(path, "first")
    files.write_text(path, "second")
    assert mode(path) == 0o644
    path.chmod(0o640)
    files.write_text(path, "third")
    assert mode(path) == 0o640 and path.read_text() == "third"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_link_to_nothing_is_refused_before_the_work_not_after(tmp_path):
    """A dangling link passed the check (it does not exist) and then failed `mkdir` after training, a traceback."""
    (tmp_path / "exports").symlink_to(tmp_path / "moved")
    for path in (tmp_path / "exports", tmp_path / "exports" / "gpt"):
        with pytest.raises(UserError, match=r"--export-dir .* cannot be written: .*exports is a link to .*moved, "
                                            r"which does not exist"):
            files.check_writable_directory(path, "--export-dir")
    files.check_writable_directory(tmp_path / "new" / "exports", "--export-dir")


@pytest.mark.parametrize("name", ["a" * 240 + ".html", "é" * 120 + ".html"])  # 245 bytes: legal, near the limit
def test_a_file_of_a_legal_long_name_is_written_and_its_temporary_is_known_as_one(tmp_path, name):
    with files.atomic_path(tmp_path / name) as temporary:
        assert len(os.fsencode(temporary.name)) <= 255 and temporary.suffix == ".html"
        assert files.entries_besides(tmp_path, ()) == ""  # what a killed write would leave is not the user's
        temporary.write_text("page")
    assert [p.name for p in tmp_path.iterdir()] == [name] and (tmp_path / name).read_text() == "page"
    files.replace_folder(tmp_path, tmp_path.parent / f"{tmp_path.name}-copy" / name)
    assert (tmp_path.parent / f"{tmp_path.name}-copy" / name / name).read_text() == "page"


def test_a_file_whose_replacing_is_refused_is_one_line_and_kept(tmp_path, monkeypatch):
    """An immutable file (`chattr +i`) refuses the final rename: a traceback, before."""
    path = tmp_path / "locked.html"
    path.write_text("old")

    def refused(source, target):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(target))

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(UserError, match=f"^cannot write {path}: Operation not permitted$"):
        files.write_text(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["locked.html"]


def test_a_full_disk_at_the_final_rename_stays_the_error_the_cli_names_as_such(tmp_path, monkeypatch):
    def full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError) as raised:
        files.write_text(tmp_path / "page.html", "new")
    assert files.storage_full(raised.value) == "No space left on device"


def test_a_link_is_written_through_to_its_target_and_kept(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "page.html").write_text("old")
    (tmp_path / "pagelink.html").symlink_to(Path("www") / "page.html")
    files.write_text(tmp_path / "pagelink.html", "new")
    assert (tmp_path / "pagelink.html").is_symlink() and (tmp_path / "www" / "page.html").read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "www").iterdir()) == ["page.html"]


@pytest.mark.parametrize("chain", ["cause", "context"])
def test_a_full_disk_under_another_error_is_still_a_full_disk(chain):
    """Keras and h5py raise their own errors from the system's: the reason is found down the chain."""
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as full:
            if chain == "cause":
                raise RuntimeError("save failed") from full
            raise RuntimeError("save failed")
    except RuntimeError as exc:
        assert files.storage_full(exc) == "No space left on device"
    assert files.storage_full(RuntimeError("save failed")) is None


def test_a_folders_digest_changes_when_a_file_is_renamed_or_its_bytes_move_to_another(tmp_path):
    def digest_of(contents):
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        for name, text in contents.items():
            (folder / name).write_text(text)
        return files.digest(folder)

    original = digest_of({"a": "ab", "b": "c"})
    assert digest_of({"a": "ab", "b": "c"}) == original
    assert digest_of({"a": "a", "b": "bc"}) != original
    assert digest_of({"a": "ab", "c": "c"}) != original


def test_an_empty_folder_at_a_directory_target_is_not_replaced_either(tmp_path):
    """`os.replace` swaps a folder over an empty one without a word: a version another run has just made, not yet
    filled, would be replaced by this one."""
    (tmp_path / "1").mkdir()
    with pytest.raises(FileExistsError):
        with files.atomic_path(tmp_path / "1", directory=True) as temporary:
            (temporary / "model").write_text("new")
    assert not any((tmp_path / "1").iterdir()) and [p.name for p in tmp_path.iterdir()] == ["1"]


@pytest.mark.parametrize("text", ["one\ntwo\n", "one\r\ntwo\r\n", "one\rtwo\r", "one\ntwo"])
def test_lines_end_at_a_newline_a_carriage_return_or_both_and_none_is_made_of_the_last_end(text):
    assert files.split_lines(text) == ["one", "two"]
    assert files.split_lines("one\n\ntwo\n") == ["one", "", "two"]  # a blank line inside is one


def test_lines_of_a_file_with_blank_ones_kept_are_as_an_editor_shows_them(tmp_path):
    (tmp_path / "lines.txt").write_bytes(b"a\r\n\r\nb\rc\x0cd\n")
    assert files.read_lines(tmp_path / "lines.txt", keep_blank=True) == ["a", "", "b", "c\x0cd"]


def test_what_a_refusal_names_besides_the_kept_entries_counts_the_rest(tmp_path):
    assert files.entries_besides(tmp_path / "none", ()) == ""
    for name in ("a", "b", "c", "d", "e", ".lock"):
        (tmp_path / name).write_text("")
    assert files.entries_besides(tmp_path, (".lock",)) == "a, b, c and 2 more"
    assert files.entries_besides(tmp_path, (".lock", "d", "e")) == "a, b, c"
    (tmp_path / ".a.tmp-0123456789abcdef").write_text("")  # a killed write's temporary: not the user's
    (tmp_path / "a.tmp-0123456789abcdef").write_text("")  # the user's: a temporary's name starts with a dot
    assert files.entries_besides(tmp_path, (".lock", "b", "c", "d", "e")) == "a, a.tmp-0123456789abcdef"


def test_a_folders_digest_covers_its_subfolders_and_every_byte(tmp_path):
    """A SavedModel or a backbone is a folder of folders, and its weights are larger than a block."""
    def digest_of(inner, tail):
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        (folder / "variables").mkdir(parents=True)
        (folder / "variables" / "data").write_bytes(b"\0" * ((1 << 20) + 5000) + tail + b"\0" * 10)
        (folder / "variables" / "index").write_text(inner)
        return files.digest(folder)

    original = digest_of("index", b"a")
    assert digest_of("index", b"a") == original
    assert digest_of("index", b"b") != original  # a byte past the first blocks
    assert digest_of("other", b"a") != original


def test_a_digest_of_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(UserError, match=f"^cannot read {tmp_path / 'gone'}: No such file or directory$"):
        files.digest(tmp_path / "gone")


def _model(compiled):
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    if compiled:  # the optimizer's variables are written too
        model.compile("adamw", "mse")
        model.optimizer.build(model.trainable_variables)
    return model


@pytest.mark.parametrize("compiled", [True, False])
def test_a_weights_file_the_disk_has_no_room_for_is_refused_before_hdf5_starts(tmp_path, monkeypatch, compiled):
    """h5py crashes the process when a file runs out of space mid-write (a segmentation fault, nothing said): a
    folder without room for the file is a full disk, said in one line, before HDF5 writes a byte."""
    model, target = _model(compiled), tmp_path / "latest.weights.h5"
    files.write_weights(model, target)
    size = target.stat().st_size
    monkeypatch.setattr(files.shutil, "disk_usage", lambda path: shutil_usage(free=size))
    monkeypatch.setattr(type(model), "save_weights", lambda *args: pytest.fail("HDF5 was let write"))
    with pytest.raises(OSError) as raised:
        files.write_weights(model, target)
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert files.storage_full(raised.value) == "No space left on device"
    assert [path.name for path in tmp_path.iterdir()] == [target.name]  # the last good file kept, no temporary


def shutil_usage(free):
    import shutil

    return shutil._ntuple_diskusage(total=free, used=0, free=free)
