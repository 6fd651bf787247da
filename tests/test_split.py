"""`audiohub serve all --split`, run for real on free ports: five processes on one SQLite data dir
that all answer, a call through the gateway with a key, then SIGTERM and all five gone; and when
one of them dies, the others are stopped and the command says which and exits 1."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUDIO, make_settings
from tests.keys import key_for
from tests.processes import stop_process

NAMES = ("gateway", "transcription", "prompt", "extraction", "persistence")


def five_free_ports() -> int:
    """A base port with it and the next four free on loopback."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base: int = s.getsockname()[1]
        if base > 65530:
            continue
        try:
            for port in range(base, base + 5):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no five consecutive free ports")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone in all but name: it only waits for its parent to read its status.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


@dataclass
class Split:
    proc: subprocess.Popen[bytes]
    log: Path
    base: int
    key: str

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.base + NAMES.index(name)}"

    def pids(self) -> dict[str, int]:
        found = re.findall(r"^(\w+)\s+http://\S+\s+pid (\d+)$", self.log.read_text(), re.M)
        return {name: int(pid) for name, pid in found}

    def wait_healthy(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(NAMES)
        while waiting:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{waiting} not healthy:\n{self.log.read_text()}"
            for name in list(waiting):
                try:
                    if httpx.get(f"{self.url(name)}/health", timeout=2).status_code == 200:
                        waiting.discard(name)
                except httpx.TransportError:
                    pass
            time.sleep(0.5)


@pytest.fixture
def split(tmp_path: Path) -> Iterator[Split]:
    data = tmp_path / "data"
    key = key_for(make_settings(data), "analyst")
    base = five_free_ports()
    log = tmp_path / "split.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "AUDIOHUB_DATA_DIR": str(data)}
    for name in ("DATABASE_URL", "SERVICE_TOKEN"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "audiohub.cli", "serve", "all", "--split",
             "--base-port", str(base)], env=env, stdout=out, stderr=subprocess.STDOUT)
    s = Split(proc, log, base, key)
    try:
        yield s
    finally:
        stop_process(proc, grace=30)
        for pid in s.pids().values():  # never leave a service behind, whatever failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_five_services_answer_a_call_and_stop_together(split: Split) -> None:
    started = time.monotonic()
    split.wait_healthy()
    pids = split.pids()
    print(f"\nall five healthy in {time.monotonic() - started:.1f} s: {pids}")
    assert set(pids) == set(NAMES) and all(alive(pid) for pid in pids.values())
    # The stages refuse a caller without the generated SERVICE_TOKEN ...
    r = httpx.get(f"{split.url('persistence')}/stats", timeout=10)
    assert r.status_code == 401
    # ... which the gateway has: a call goes through all four.
    with (AUDIO / "healthcare_appointment.mp3").open("rb") as f:
        r = httpx.post(f"{split.url('gateway')}/api/transcribe/",
                       files={"file": ("call.mp3", f)},
                       headers={"Authorization": f"Bearer {split.key}"}, timeout=180)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["domain"], body["category"]) == ("healthcare", "appointment_scheduling")
    call_id = body["database"]["call_id"]
    r = httpx.get(f"{split.url('gateway')}/api/calls/{call_id}",
                  headers={"Authorization": f"Bearer {split.key}"}, timeout=30)
    assert r.status_code == 200 and r.json()["filename"] == "call.mp3"

    split.proc.send_signal(signal.SIGTERM)
    assert split.proc.wait(timeout=60) == 0, split.log.read_text()[-3000:]
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert "stopped all five services" in split.log.read_text()


def test_when_one_dies_the_others_are_stopped(split: Split) -> None:
    split.wait_healthy()
    pids = split.pids()
    os.kill(pids["extraction"], signal.SIGKILL)
    assert split.proc.wait(timeout=60) == 1
    log = split.log.read_text()
    assert re.search(r"the extraction service \(pid \d+\) exited with code -9; stopped the "
                     "others", log), log[-3000:]
    assert [name for name, pid in pids.items() if alive(pid)] == []
