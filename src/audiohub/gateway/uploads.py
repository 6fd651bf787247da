"""Getting an upload onto local disk safely: bounded in size, hashed on the way, never named by
the client's filename. The same code takes a multipart file, a raw streamed body (audio/* or
application/octet-stream, as the seed's load test sends it) or the seed's hex-in-JSON bytes."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Mapping
from email.message import Message
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import TracebackType
from typing import Annotated, Any, BinaryIO

from anyio import from_thread, to_thread
from fastapi import Form, Query
from fastapi.exceptions import RequestValidationError

from audiohub.errors import EmptyUploadError, UploadTooLargeError
from audiohub.gateway.pipeline import StagedAudio
from audiohub.transcription.schemas import KEYTERMS_DOC, KeytermText, clean_keyterms

_CHUNK = 1 << 20


# The raw-body alternative to the multipart field `file`, for a route's `openapi_extra`
# (FastAPI merges it into the multipart request body it documents itself).
RAW_AUDIO_BODY: dict[str, Any] = {"requestBody": {
    "description": "The recording as the multipart field `file`, or as the raw body "
                   "(`audio/*` or `application/octet-stream`, e.g. `curl --data-binary @call.mp3 "
                   "-H 'Content-Type: audio/mpeg'`), named by `Content-Disposition: attachment; "
                   "filename=...` or `X-Filename`, else `upload`.",
    "content": {kind: {"schema": {"type": "string", "contentMediaType": kind}}
                for kind in ("audio/*", "application/octet-stream")},
}}


# An upload route's `keyterms`: the multipart field (beside `file`) and the query parameter (the
# only place a raw-body upload can carry them); a route takes both and joins them.
FormKeyterms = Annotated[KeytermText | None, Form(description=KEYTERMS_DOC)]
QueryKeyterms = Annotated[KeytermText | None, Query(
    alias="keyterms", description=KEYTERMS_DOC + " The way to send them with a raw body.")]


def upload_keyterms(form: list[str] | None, query: list[str] | None) -> tuple[str, ...]:
    """Both places' keyterms as one list, checked again together (their count, repeats); a
    problem is a 422 `invalid_request` like any other parameter's."""
    try:
        return tuple(clean_keyterms([*(form or ()), *(query or ())]))
    except ValueError as exc:
        raise RequestValidationError(
            [{"loc": ("keyterms",), "msg": str(exc), "type": "value_error"}]) from None


def is_raw_audio(headers: Mapping[str, str]) -> bool:
    """Whether the request body is the recording itself (the seed's `ab -p audio.mp3 -T
    audio/mpeg`), not a form."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return kind.startswith("audio/") or kind == "application/octet-stream"


def raw_filename(headers: Mapping[str, str]) -> str | None:
    """A raw body's name: `Content-Disposition`'s filename (RFC 6266, `filename*=UTF-8''...`
    too), else `X-Filename`; `display_name` makes it safe."""
    if disposition := headers.get("content-disposition"):
        message = Message()
        message["content-disposition"] = disposition
        if name := message.get_filename():
            return name
    return headers.get("x-filename")


def display_name(filename: str | None) -> str:
    """The client's filename reduced to something safe to show and store (never a path)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip()
    return name[:255] or "upload"


class _Sink:
    """A private temporary file that counts and hashes what is written to it.

    Used as a context manager: on any error the file is removed; on success the caller gets a
    StagedAudio from `staged()` and deletes the file when done with it.
    """

    def __init__(self, filename: str | None, tmp_dir: Path, limit: int) -> None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        self.path = Path(tmp)
        self.out = os.fdopen(fd, "wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit
        self.filename = display_name(filename)

    def write(self, block: bytes) -> None:
        self.size += len(block)
        if self.size > self.limit:
            raise UploadTooLargeError(
                f"the file is larger than MAX_UPLOAD_MB ({self.limit / 1048576:g} MB)"
            )
        self.digest.update(block)
        self.out.write(block)

    def staged(self) -> StagedAudio:
        self.out.close()
        if self.size == 0:
            raise EmptyUploadError("the uploaded file is empty (0 bytes)")
        return StagedAudio(path=self.path, sha256=self.digest.hexdigest(), filename=self.filename)

    def __enter__(self) -> _Sink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.out.close()
        if kind is not None:
            self.path.unlink(missing_ok=True)


def stage_stream(source: BinaryIO, filename: str | None, tmp_dir: Path, limit: int) -> StagedAudio:
    """Copy `source` to a private temporary file in `tmp_dir`; the caller deletes it.

    Raises:
        UploadTooLargeError: more than `limit` bytes.
        EmptyUploadError: no bytes at all.
    """
    with _Sink(filename, tmp_dir, limit) as sink:
        while block := source.read(_CHUNK):
            sink.write(block)
        return sink.staged()


async def stage_upload(
    source: BinaryIO, filename: str | None, tmp_dir: Path, limit: int
) -> StagedAudio:
    return await to_thread.run_sync(stage_stream, source, filename, tmp_dir, limit)


async def stage_chunks(
    chunks: AsyncIterator[bytes], filename: str | None, tmp_dir: Path, limit: int
) -> StagedAudio:
    """Like `stage_stream`, for a request body read chunk by chunk (raw uploads)."""
    with _Sink(filename, tmp_dir, limit) as sink:
        async for block in chunks:
            if block:
                sink.write(block)
        return sink.staged()


class _BodyStream(io.RawIOBase):
    """An async stream of chunks read as a blocking file from a worker thread: each read waits
    on the event loop for the next chunk, so the body is never held whole."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""
        self._done = False

    def readable(self) -> bool:
        return True

    async def _next(self) -> bytes:
        return await anext(self._chunks)

    def readinto(self, buffer: Any) -> int:
        while not self._left and not self._done:
            try:
                self._left = from_thread.run(self._next)
            except StopAsyncIteration:
                self._done = True
        n = min(len(buffer), len(self._left))
        memoryview(buffer).cast("B")[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def blocking_body(chunks: AsyncIterator[bytes]) -> BinaryIO:
    """A request body (`request.stream()`) as a file that code running in a worker thread
    (`to_thread.run_sync`), such as `JobService.submit`, can stage like a multipart file.
    Errors raised while reading (the body limit's 413, a client gone) surface in its reads."""
    return io.BufferedReader(_BodyStream(chunks), buffer_size=_CHUNK)


def stage_bytes(data: bytes, filename: str | None, tmp_dir: Path, limit: int) -> StagedAudio:
    """Like `stage_stream`, for bytes already in memory (the seed's hex `file_bytes`)."""
    with _Sink(filename, tmp_dir, limit) as sink:
        for at in range(0, len(data), _CHUNK):
            sink.write(data[at:at + _CHUNK])
        return sink.staged()


async def read_chunks(path: Path) -> AsyncIterator[bytes]:
    """A file's bytes as an async stream: how audio travels to another service, never whole."""
    f = await to_thread.run_sync(path.open, "rb")
    try:
        while block := await to_thread.run_sync(f.read, _CHUNK):
            yield block
    finally:
        f.close()
