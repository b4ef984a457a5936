import errno
import gzip
import io
import os
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from keras_apps.data import archives
from keras_apps.data.archives import cache_directory, extract
from keras_apps.errors import UserError
from tests.data.refusals import refuse_opening


def write_tar(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_extracts_once_into_the_target(tmp_path):
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "alpha", "top/sub/b.txt": "beta"})
    target = extract(archive, tmp_path / "out")
    assert (target / "top" / "sub" / "b.txt").read_text() == "beta"
    (target / "top" / "a.txt").write_text("changed")
    extract(archive, tmp_path / "out")  # already there: not extracted again
    assert (target / "top" / "a.txt").read_text() == "changed"


def test_an_archive_another_process_extracted_meanwhile_is_used(tmp_path, monkeypatch):
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "ours"})
    real_extract_tar = archives._extract_tar

    def extract_while_another_process_finishes_first(archive, destination):
        real_extract_tar(archive, destination)
        (tmp_path / "out" / "top").mkdir(parents=True)
        (tmp_path / "out" / "top" / "a.txt").write_text("theirs")

    monkeypatch.setattr(archives, "_extract_tar", extract_while_another_process_finishes_first)
    target = extract(archive, tmp_path / "out")
    assert (target / "top" / "a.txt").read_text() == "theirs"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.tar.gz", "out"]  # our copy removed


def test_what_a_killed_extraction_left_is_removed_by_the_next(tmp_path):
    """A SIGKILLed extraction (out of memory, a machine's power) cannot remove its temporary; nothing ever did,
    up to IMDB's 412 MB a kill. Held under the cache's lock, the next extraction knows it is no one's."""
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "alpha"})
    leftover = tmp_path / ".out.tmp-0123456789abcdef"
    (leftover / "top").mkdir(parents=True)
    (leftover / "top" / "half.txt").write_text("half")
    assert (extract(archive, tmp_path / "out") / "top" / "a.txt").read_text() == "alpha"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.tar.gz", "out"]


def test_zip_archives(tmp_path):
    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("pairs/spa.txt", "Go.\tVe.\n")
    assert (extract(tmp_path / "data.zip", tmp_path / "out") / "pairs" / "spa.txt").read_text() == "Go.\tVe.\n"


def test_members_escaping_the_target_are_refused_and_leave_nothing(tmp_path):
    archive = write_tar(tmp_path / "evil.tar.gz", {"fine.txt": "ok", "../escape.txt": "gotcha"})
    with pytest.raises(UserError, match="outside the extraction folder"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape.txt").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["evil.tar.gz"]


def test_absolute_member_paths_land_inside_the_target(tmp_path):
    archive = write_tar(tmp_path / "abs.tar.gz", {"/keras_apps_test_escape/x.txt": "inside"})
    target = extract(archive, tmp_path / "out")
    assert (target / "keras_apps_test_escape" / "x.txt").read_text() == "inside"
    assert not Path("/keras_apps_test_escape").exists()


def test_zip_member_escaping_the_target_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("../escape.txt", "gotcha")
    with pytest.raises(UserError, match="outside the extraction folder"):
        extract(tmp_path / "evil.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_truncated_archive_is_a_clear_error_and_leaves_no_folder(tmp_path):
    archive = write_tar(tmp_path / "data.tar.gz", {f"top/{index}.txt": "x" * 5000 for index in range(20)})
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2])
    with pytest.raises(UserError, match="corrupt or truncated"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cache_directory_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path))
    assert cache_directory() == tmp_path


def test_an_archive_replaced_under_the_same_name_is_not_answered_from_the_old_ones_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "first"})
    first = archives.cached_extraction(archive, "data")
    assert archives.cached_extraction(archive, "data") == first  # the same file: extracted once
    write_tar(archive, {"top/a.txt": "second"})
    second = archives.cached_extraction(archive, "data")
    assert second != first and (second / "top" / "a.txt").read_text() == "second"
    archive.write_bytes(b"PK\x03\x04 not an archive")
    with pytest.raises(UserError, match="corrupt or truncated"):
        archives.cached_extraction(archive, "data")


def test_an_archive_changed_past_its_first_mebibyte_is_extracted_anew(tmp_path, monkeypatch):
    """The cache is named after the whole archive's bytes, not a first block of them."""
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "data.tar"
    for last in "bc":  # 1.5 MiB stored uncompressed: its last byte lies past the archive's first MiB
        with tarfile.open(archive, "w") as handle:
            data = b"a" * ((3 << 19) - 1) + last.encode()
            info = tarfile.TarInfo("top/a.txt")
            info.size = len(data)
            handle.addfile(info, io.BytesIO(data))
        assert (archives.cached_extraction(archive, "data") / "top" / "a.txt").read_text()[-1] == last


def test_an_unreadable_archive_is_one_line_saying_so_not_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "alpha"})
    refuse_opening(monkeypatch, archive)
    with pytest.raises(UserError) as raised:
        archives.cached_extraction(archive, "data")
    assert str(raised.value) == f"cannot read {archive}: Permission denied"


def test_a_full_cache_disk_names_the_cache_folder_and_how_to_choose_another(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / "cache"))
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "alpha"})

    def disk_full(archive, destination):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(destination / "top" / "a.txt"))

    monkeypatch.setattr(archives, "_extract_tar", disk_full)
    with pytest.raises(UserError) as raised:
        archives.cached_extraction(archive, "data")
    assert str(raised.value) == (f"the disk of the cache folder {tmp_path / 'cache'} is full, so {archive} cannot be "
                                 "extracted; free space on it or set KERAS_APPS_CACHE to a folder on another disk")
    assert [path.name for path in (tmp_path / "cache").iterdir()] == []


@pytest.mark.parametrize("error", [
    gzip.BadGzipFile("CRC check failed 0x1 != 0x2"),  # an OSError without an errno: the bytes, not the system
    zlib.error("Error -3 while decompressing data: invalid block type"),
    EOFError("Compressed file ended before the end-of-stream marker was reached"),
])
def test_damaged_compressed_data_is_corrupt(tmp_path, monkeypatch, error):
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "alpha"})

    def damaged(archive, destination):
        raise error

    monkeypatch.setattr(archives, "_extract_tar", damaged)
    with pytest.raises(UserError) as raised:
        extract(archive, tmp_path / "out")
    assert str(raised.value) == f"{archive} is corrupt or truncated ({error}); delete it and fetch it again"


def test_a_system_error_is_told_as_it_is(tmp_path):
    archive = tmp_path / "data.tar.gz"
    assert str(archives.read_error(archive, OSError(errno.EIO, os.strerror(errno.EIO), str(archive)))) == (
        f"cannot read {archive}: Input/output error")
    elsewhere = OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "cache" / "x"))
    assert str(archives.read_error(archive, elsewhere, extracting_into=tmp_path / "cache")) == (
        f"cannot extract {archive}: {tmp_path / 'cache' / 'x'}: Read-only file system")


def test_a_flipped_bit_in_a_members_data_is_corrupt_not_extracted(tmp_path):
    """Only gzip's CRC, at the stream's end, checks a member's bytes; `tarfile` stops reading before it."""
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=0) as handle:  # stored: the flip changes one byte, decodes fine
        info = tarfile.TarInfo("top/a.txt")
        info.size = 5000
        handle.addfile(info, io.BytesIO(b"x" * 5000))
    content = bytearray(archive.read_bytes())
    content[content.index(b"x" * 100) + 50] ^= 1
    archive.write_bytes(content)
    with pytest.raises(UserError, match=r"is corrupt or truncated \(CRC check failed"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_damaged_header_mid_archive_is_corrupt_not_the_end_of_the_archive(tmp_path):
    """`tarfile` takes a header that fails its checksum for the end and extracts the members before it only."""
    members = {f"top/{index}.txt": f"member {index}" for index in range(3)}
    tar = bytearray(gzip.decompress(write_tar(tmp_path / "whole.tar.gz", members).read_bytes()))
    tar[tar.index(b"top/1.txt")] ^= 1  # its name: the header's checksum no longer adds up
    archive = tmp_path / "data.tar.gz"
    archive.write_bytes(gzip.compress(bytes(tar)))  # compressed whole: gzip's own check passes
    with pytest.raises(UserError, match=r"is corrupt or truncated \(a damaged header hides the members after it\)"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cache", ["cachefile", "cachefile/sub"])
def test_a_cache_folder_that_is_a_file_is_one_line(tmp_path, monkeypatch, cache):
    (tmp_path / "cachefile").write_text("x")
    monkeypatch.setenv("KERAS_APPS_CACHE", str(tmp_path / cache))
    archive = write_tar(tmp_path / "data.tar.gz", {"top/a.txt": "alpha"})
    with pytest.raises(UserError) as raised:
        archives.cached_extraction(archive, "data")
    assert str(raised.value) == (f"the cache folder {tmp_path / cache} is a file, or inside one; set KERAS_APPS_CACHE "
                                 "to a folder (or remove that file)")
