"""A local stand-in for the Hugging Face model hub that speaks its file API, for fetch tests.

The hub is a network service these tests must never reach, so a real HTTP server on a loopback
port (the standard library's, in a thread) answers the requests huggingface_hub's
`snapshot_download` makes, with the hub's wire format (read from huggingface_hub 2.4's hf_api.py,
file_download.py and _snapshot_download.py):

- `GET /api/models/{repo}/revision/{rev}`: the repo's info JSON; `sha` is the commit the
  revision points at, `siblings` its files.
- `GET /api/models/{repo}/tree/{commit}?recursive=...`: the file listing (`type`, `path`, `size`,
  `oid` = git blob sha1, and `lfs` {oid = sha256, size, pointerSize} for large files), one page:
  no `Link` header.
- `HEAD /{repo}/resolve/{rev}/{file}`: `X-Repo-Commit`, `ETag` (the sha256 for LFS files, sent as
  `X-Linked-Etag` and `X-Linked-Size` too, as the hub does), `Content-Length`.
- `GET /{repo}/resolve/{rev}/{file}`: the bytes, with `Range: bytes=N-` answered by a 206.

It serves any set of local files as one repository, records every request, and can be told to
fail a file: a 500, or a body cut off halfway (then a 500 for the client's resume).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

COMMIT = "4f7c5bd1cbc1f4f0e7a8a1e5b0c4d3e2f1a0b9c8"  # 40 hex digits, as the hub's commit ids
_LFS_MIN = 10 * 1024 * 1024  # the hub keeps files this large in LFS
Failure = Literal["500", "truncate"]


@dataclass
class HubFile:
    path: Path
    size: int
    git_sha1: str
    sha256: str

    @classmethod
    def of(cls, path: Path) -> HubFile:
        data = path.read_bytes()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        return cls(path, len(data), blob, hashlib.sha256(data).hexdigest())

    @property
    def lfs(self) -> bool:
        return self.size >= _LFS_MIN

    def tree_entry(self, name: str) -> dict[str, object]:
        entry: dict[str, object] = {"type": "file", "path": name, "size": self.size,
                                    "oid": self.git_sha1}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": 134}
        return entry


@dataclass
class FakeHub:
    """One repository `repo_id` holding `files` (name in the repo -> local file)."""

    repo_id: str
    files: dict[str, Path]
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    resumed: list[tuple[str, int]] = field(default_factory=list)  # (file, Range start) asked for
    url: str = ""
    _index: dict[str, HubFile] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._index = {name: HubFile.of(path) for name, path in self.files.items()}

    def fail(self, name: str, how: Failure) -> None:
        self.failures[name] = how

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.resumed.clear()
        self.failures.clear()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    @contextmanager
    def serve(self) -> Iterator[FakeHub]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    repo = re.escape(hub.repo_id)
    info = re.compile(rf"/api/models/{repo}/revision/[^/?]+")
    tree = re.compile(rf"/api/models/{repo}/tree/[^/?]+")
    resolve = re.compile(rf"/{repo}/resolve/[^/]+/(?P<file>[^?]+)")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the hub; every answer has a length

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def _answer(self, head: bool) -> None:
            hub.record(self.command, self.path)
            path = self.path.split("?", 1)[0]
            if not head and info.fullmatch(path):
                self._json({"id": hub.repo_id, "modelId": hub.repo_id, "sha": COMMIT,
                            "private": False, "gated": False, "disabled": False,
                            "siblings": [{"rfilename": n} for n in hub.files]})
            elif not head and tree.fullmatch(path):
                self._json([f.tree_entry(n) for n, f in hub._index.items()])
            elif (m := resolve.fullmatch(path)) and m["file"] in hub._index:
                self._file(m["file"], head)
            else:  # the hub's answer for a repo or file it does not have
                self._json({"error": "Repository Not Found"}, 404,
                           {"X-Error-Code": "RepoNotFound"})

        def _file(self, name: str, head: bool) -> None:
            f = hub._index[name]
            etag = f'"{f.sha256 if f.lfs else f.git_sha1}"'
            headers = {"X-Repo-Commit": COMMIT, "ETag": etag, "Accept-Ranges": "bytes"}
            if f.lfs:
                headers |= {"X-Linked-Etag": etag, "X-Linked-Size": str(f.size)}
            failure = None if head else hub.failures.get(name)
            start = 0
            if rng := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "")):
                start = int(rng[1])
                if not head:
                    with hub._lock:
                        hub.resumed.append((name, start))
                if failure == "truncate":  # the connection broke; now the server is down
                    failure = "500"
            if failure == "500":
                self._json({"error": "Internal Error"}, 500)
                return
            self.send_response(206 if start else 200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(f.size - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{f.size - 1}/{f.size}")
            self.end_headers()
            if head:
                return
            with f.path.open("rb") as src:
                src.seek(start)
                if failure == "truncate":  # half the body, then the connection drops
                    self.wfile.write(src.read((f.size - start) // 2))
                    self.wfile.flush()
                    self.close_connection = True
                    return
                while block := src.read(1 << 20):
                    self.wfile.write(block)

        def _json(self, data: object, status: int = 200,
                  headers: dict[str, str] | None = None) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler
