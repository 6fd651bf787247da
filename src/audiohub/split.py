"""`audiohub serve all --split`: the seed's five services as five processes on one machine, for
local use of the five-service layout without five terminals.

The stages listen on 127.0.0.1 at the seed's ports (transcription 8001, prompt 8002, extraction
8003, persistence 8004) and the gateway where `serve` would put it; they share one SERVICE_TOKEN
(generated unless set) and one database (DATABASE_URL, or the data dir's SQLite file: migrations
of it are serialised by a lock file, so they start in any order). Ctrl-C or SIGTERM stops them
all; when one dies, the others are stopped and the command exits 1 naming it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

import httpx
from rich.console import Console

from audiohub.config import STAGES, Settings

console = Console(stderr=True)
_STAGE_HOST = "127.0.0.1"
# With --base-port: the gateway on it, then the stages in the seed's port order.
_OFFSET = {"gateway": 0, "transcription": 1, "prompt": 2, "extraction": 3, "persistence": 4}
# Started in the seed's order, the gateway last; stopped the other way round.
_ORDER = ("prompt", "transcription", "extraction", "persistence", "gateway")
_URL_VARS = tuple(f"{stage.upper()}_SERVICE_URL" for stage in STAGES)
_GRACE_SECONDS = 20.0


@dataclass
class Service:
    """One of the five processes."""

    name: str
    host: str
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    answered: bool = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        # Its own session: a Ctrl-C in the terminal reaches this command only, which then
        # stops the services in order instead of all of them racing to exit.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "audiohub.cli", "serve", self.name, "--host", self.host,
             "--port", str(self.port)], env=self.env, start_new_session=True)


def plan(settings: Settings, host: str, port: int | None = None,
         base_port: int | None = None) -> list[Service]:
    """The five services, their ports and environments, in start order."""
    ports: dict[str, int] = {
        stage: (base_port + _OFFSET[stage]) if base_port else settings.services.port(stage)
        for stage in STAGES}
    ports["gateway"] = base_port or port or settings.port
    urls = {stage: f"http://{_STAGE_HOST}:{ports[stage]}" for stage in STAGES}
    token = settings.services.token
    base = {name: value for name, value in os.environ.items() if name not in _URL_VARS}
    base.update({
        "SERVICE_TOKEN": token.get_secret_value() if token else secrets.token_hex(24),
        "AUDIOHUB_DATA_DIR": str(settings.data_dir.resolve()),
    })
    if settings.database.url:  # as read from .env too: every process opens the same database
        base["DATABASE_URL"] = settings.database.url
    extra = {"transcription": {"PROMPT_SERVICE_URL": urls["prompt"]},
             "gateway": {f"{stage.upper()}_SERVICE_URL": urls[stage] for stage in STAGES}}
    return [Service(name, host if name == "gateway" else _STAGE_HOST, ports[name],
                    {**base, **extra.get(name, {})}) for name in _ORDER]


def run_split(settings: Settings, host: str, port: int | None = None,
              base_port: int | None = None) -> int:
    """Start the five, watch them until a signal or a death, stop them all; the exit code."""
    services = plan(settings, host, port, base_port)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    dead: Service | None = None
    try:
        for service in services:
            service.start()
            assert service.proc is not None
            console.print(f"{service.name:<13} {service.url:<28} pid {service.proc.pid}",
                          soft_wrap=True)
        while not stop.wait(0.5):
            dead = next((s for s in services if s.proc is not None and s.proc.poll() is not None),
                        None)
            if dead is not None:
                break
            _note_answers(services)
    finally:
        _stop_all(services)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if dead is not None and dead.proc is not None:
        console.print(f"[red]the {dead.name} service (pid {dead.proc.pid}) exited with code "
                      f"{dead.proc.returncode}; stopped the others[/red]", soft_wrap=True)
        return 1
    console.print("stopped all five services")
    return 0


def _note_answers(services: list[Service]) -> None:
    """Say once when every service answers /health (models loaded, database migrated)."""
    waiting = [s for s in services if not s.answered]
    if not waiting:
        return
    for service in waiting:
        try:
            httpx.get(f"{service.url}/health", timeout=1)
        except httpx.HTTPError:
            continue
        service.answered = True
    if all(s.answered for s in services):
        gateway = services[-1]
        console.print(f"all five services answer; the hub is at {gateway.url}", soft_wrap=True)


def _stop_all(services: list[Service]) -> None:
    """SIGTERM to each (a server's clean shutdown), then SIGKILL to any still running after
    the grace period."""
    running = [s.proc for s in reversed(services) if s.proc is not None and s.proc.poll() is None]
    for proc in running:
        proc.terminate()
    deadline = time.monotonic() + _GRACE_SECONDS
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
