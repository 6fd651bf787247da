"""`audiohub serve ...` as real processes on loopback ports, for the tests that need them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """One `audiohub serve STAGE` process; its output goes to `log`."""

    def __init__(self, stage: str, port: int, env: dict[str, str], log: Path) -> None:
        self.stage, self.port, self.log = stage, port, log
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> Server:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "audiohub.cli", "serve", self.stage,
                 "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.stage} exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.stage} not healthy in {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.proc, grace=20)
        self.proc = None


def stop_process(proc: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM (a server's or worker's clean shutdown), then SIGKILL after `grace` seconds."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


STAGES = ("prompt", "transcription", "extraction", "persistence")


def start_five(root: Path, database_url: str, token: str) -> dict[str, Server]:
    """The seed's five services, started in its order (prompt first, gateway last), each with
    its own data dir: they share only the database (prompt, persistence) and HTTP. The caller
    stops them, also when this raises."""
    ports = {s: free_port() for s in (*STAGES, "gateway")}
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    env = {
        "prompt": {"DATABASE_URL": database_url},
        "persistence": {"DATABASE_URL": database_url},
        "transcription": {"PROMPT_SERVICE_URL": urls["prompt"]},
        "extraction": {},
        "gateway": {f"{s.upper()}_SERVICE_URL": urls[s] for s in STAGES},
    }
    servers: dict[str, Server] = {}
    for stage in (*STAGES, "gateway"):
        e = {"AUDIOHUB_DATA_DIR": str(root / stage), "SERVICE_TOKEN": token, **env[stage]}
        server = servers[stage] = Server(stage, ports[stage], e, root / f"{stage}.log")
        if "DATABASE_URL" not in e:
            server.env.pop("DATABASE_URL", None)
    return servers


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, port: int | None = None, **config: Any) -> Iterator[str]:
    """A real uvicorn server for `app` on a loopback port (a free one unless given), in a
    thread; yields its URL. `config` goes to uvicorn.Config."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, **{"log_level": "error", **config}))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def one_process(data_dir: Path, log: Path, timeout: float = 120, **env: str) -> Iterator[str]:
    """`audiohub serve all` on its embedded defaults (SQLite in `data_dir`, whatever
    DATABASE_URL the caller's environment has); yields its URL, stops it afterwards."""
    server = Server("all", free_port(), {"AUDIOHUB_DATA_DIR": str(data_dir), **env}, log)
    server.env.pop("DATABASE_URL", None)
    try:
        yield server.start(timeout).url
    finally:
        server.stop()
