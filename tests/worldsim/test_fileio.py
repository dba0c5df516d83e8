"""File helpers: atomic writes and links that never leave half a file or a stray temporary."""

import os


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    from worldsim.fileio import atomic_write_bytes

    path = tmp_path / "sub" / "a.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new bytes")
    assert path.read_bytes() == b"new bytes" and os.listdir(path.parent) == ["a.bin"]


def test_a_link_shares_the_bytes_and_a_refused_link_leaves_the_target_as_it_was(tmp_path, monkeypatch):
    from worldsim import fileio

    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(b"latents")
    target.write_bytes(b"stale")
    assert fileio.link_into_place(source, target)
    assert target.samefile(source) and target.read_bytes() == b"latents"

    def refuse(src, dst):
        raise OSError(18, "Invalid cross-device link")

    other = tmp_path / "other"
    other.write_bytes(b"kept")
    monkeypatch.setattr(fileio.os, "link", refuse)
    assert not fileio.link_into_place(source, other)
    assert other.read_bytes() == b"kept" and sorted(os.listdir(tmp_path)) == ["other", "source", "target"]
