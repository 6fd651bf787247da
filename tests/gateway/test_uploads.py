from __future__ import annotations

import io
from pathlib import Path

import pytest

from audiohub.errors import EmptyUploadError, UploadTooLargeError
from audiohub.gateway.uploads import display_name, stage_stream


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\evil.wav", "evil.wav"),
        ("call\n\x00 one.wav", "call one.wav"),
        ("", "upload"),
        (None, "upload"),
        ("/", "upload"),
        ("a" * 400 + ".wav", "a" * 255),
    ],
)
def test_display_name_is_never_a_path(given: str | None, shown: str) -> None:
    assert display_name(given) == shown


def test_stage_stream_hashes_and_bounds(tmp_path: Path) -> None:
    staged = stage_stream(io.BytesIO(b"abc"), "x.wav", tmp_path, limit=10)
    assert staged.path.read_bytes() == b"abc"
    assert staged.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(UploadTooLargeError):
        stage_stream(io.BytesIO(b"x" * 11), "x.wav", tmp_path, limit=10)
    with pytest.raises(EmptyUploadError):
        stage_stream(io.BytesIO(b""), "x.wav", tmp_path, limit=10)
    assert [p.name for p in tmp_path.iterdir()] == [staged.path.name]  # failures left nothing
