"""AUTH=off: for a hub bound to loopback only. Anywhere else `audiohub serve` refuses to start,
saying why, before it builds anything; on loopback every local caller is the admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from audiohub.access.service import SETUP_TOKEN_FILE
from audiohub.config import AuthSettings
from audiohub.gateway.app import create_app
from tests.conftest import make_settings
from tests.processes import one_process


def serve(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`audiohub serve ARGS` with AUTH=off; a hub that did start would hit the timeout."""
    environment = {**os.environ, "AUTH": "off", "AUDIOHUB_DATA_DIR": str(data), **env}
    return subprocess.run([sys.executable, "-m", "audiohub.cli", "serve", *args],
                          env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("args", "env", "host"), [
    (("all", "--host", "0.0.0.0"), {}, "0.0.0.0"),
    (("gateway", "--host", "::"), {}, "::"),
    (("all",), {"AUDIOHUB_HOST": "0.0.0.0"}, "0.0.0.0"),
])
def test_auth_off_off_loopback_refuses_to_start(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], host: str
) -> None:
    data = tmp_path / "data"
    done = serve(data, *args, **env)
    assert done.returncode == 2, done.stderr
    said = " ".join(done.stderr.split())  # rich wraps long lines
    assert f"refusing to serve with AUTH=off on {host}" in said
    assert "Bind to 127.0.0.1, or turn AUTH on" in said
    # It stopped before building the hub: no database, no models, no setup link.
    assert not data.exists()


def test_auth_off_on_loopback_needs_no_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", auth=AuthSettings(mode="off"))
    with TestClient(create_app(settings), follow_redirects=False) as client:
        me = client.get("/api/me").json()
        assert (me["subject"], me["role"], me["via"]) == ("local", "admin", "off")
        assert client.get("/api/calls").status_code == 200
        assert client.get("/api/audit").status_code == 200
        assert client.get("/ui/").status_code == 200
        assert client.post("/api/jobs").status_code == 422  # past the guard, no file sent
        # A page elsewhere on the web can still make this machine's browser post here: the
        # same-origin rule holds without sign-in too.
        cross = client.post("/api/jobs", headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        assert not (settings.data_dir / SETUP_TOKEN_FILE).exists()  # no admin to make


def test_auth_off_serves_on_loopback(tmp_path: Path) -> None:
    with one_process(tmp_path / "data", tmp_path / "server.log", AUTH="off") as url:
        r = httpx.get(f"{url}/api/calls", timeout=30)
        assert r.status_code == 200
        assert r.json()["total"] == 0
