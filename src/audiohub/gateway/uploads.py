"""Getting an upload onto local disk safely: bounded in size, hashed on the way, never named by
the client's filename."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from anyio import to_thread

from audiohub.errors import EmptyUploadError, UploadTooLargeError
from audiohub.gateway.pipeline import StagedAudio

_CHUNK = 1 << 20


def display_name(filename: str | None) -> str:
    """The client's filename reduced to something safe to show and store (never a path)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip()
    return name[:255] or "upload"


def stage_stream(source: BinaryIO, filename: str | None, tmp_dir: Path, limit: int) -> StagedAudio:
    """Copy `source` to a private temporary file in `tmp_dir`; the caller deletes it.

    Raises:
        UploadTooLargeError: more than `limit` bytes.
        EmptyUploadError: no bytes at all.
    """
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := source.read(_CHUNK):
                size += len(block)
                if size > limit:
                    raise UploadTooLargeError(
                        f"the file is larger than MAX_UPLOAD_MB ({limit / 1048576:g} MB)"
                    )
                digest.update(block)
                out.write(block)
        if size == 0:
            raise EmptyUploadError("the uploaded file is empty (0 bytes)")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StagedAudio(path=Path(tmp), sha256=digest.hexdigest(), filename=display_name(filename))


async def stage_upload(
    source: BinaryIO, filename: str | None, tmp_dir: Path, limit: int
) -> StagedAudio:
    return await to_thread.run_sync(stage_stream, source, filename, tmp_dir, limit)
