"""Where webhooks may go, and that sending them never holds up a job, on the real hub (real
models, SQLite and PostgreSQL) and real receivers on loopback:

- a table of internal addresses in every form a URL can spell them is refused at submission
  (4xx, nothing stored); WEBHOOK_ALLOW_HOSTS lets an operator's own receiver through;
- the check is made again on the address connected: a name that resolves elsewhere by then
  (DNS rebinding) is refused, and the connection goes to the very address checked. The resolver
  is our own seam (an argument of the transport), standing in for a DNS server we lack here;
- a redirect is never followed; a receiver that never answers does not delay the next job;
- attempts show outcomes and timings only, to the job's submitter and admins only;
- a delivery a stop left unfinished is sent at the next start.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audiohub.access.service import AccessService
from audiohub.config import JobSettings, RoleName, Settings
from audiohub.gateway.app import create_app
from audiohub.jobs.models import JobRow
from audiohub.jobs.schemas import WebhookAttempt
from audiohub.jobs.webhooks import (
    SIGNATURE_HEADER,
    AddressPolicy,
    IPAddress,
    check_webhook_url,
    deliver,
    verify,
)
from audiohub.persistence.db import Database
from tests.conftest import AUDIO, make_settings
from tests.keys import new_key

CALL = AUDIO / "banking_card_block_16k.wav"
OTHER_CALL = AUDIO / "ecommerce_refund_16k.wav"
SECRET = "whsec-targets"
JOB = {"event": "job.done", "job": {"job_id": "j1", "status": "done"}}

# Internal addresses as a URL can spell them; every one must be refused at submission.
REFUSED = [
    "http://127.0.0.1:6379/",  # Redis on this machine
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/",  # hexadecimal, two parts
    "http://0177.0.0.1/",  # octal
    "http://127.1/",  # short form
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/",  # the same, in hex
    "http://[64:ff9b::a9fe:a9fe]/",  # 169.254.169.254 through NAT64
    "http://[2002:a9fe:a9fe::]/",  # 169.254.169.254 inside 6to4
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[fe80::1]/",
    "http://[fc00::1]/",  # unique local
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared (carrier-grade NAT) space
    "http://224.0.0.1/",  # multicast
    "http://[ff02::1]/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://localhost:8000/",
    "http://LOCALHOST./",
    "http://vm/",  # /etc/hosts: 127.0.0.1
    "http://no-such-host.invalid/",  # does not resolve
]


def wait_for(probe: Any, timeout: float = 120, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met in {timeout} s")


def submit(client: TestClient, path: Path = CALL, **data: str) -> Any:
    with path.open("rb") as f:
        return client.post("/api/jobs", files={"file": (path.name, f)}, data=data)


def bearer(client: TestClient, role: RoleName) -> dict[str, str]:
    access: AccessService = client.app.state.access  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {new_key(access, role)}"}


def hub_settings(tmp_path: Path, database_url: str | None, **jobs: Any) -> Settings:
    return make_settings(tmp_path / "data", database_url, jobs=JobSettings(
        WEBHOOK_SECRET=SECRET, WEBHOOK_BACKOFF_SECONDS=0.05, **jobs))


@pytest.fixture(scope="module")
def refusing_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """The hub with the default policy (nothing internal allowed)."""
    settings = hub_settings(tmp_path_factory.mktemp("refusing"), None)
    with TestClient(create_app(settings)) as client:
        client.headers.update(bearer(client, "uploader"))
        yield client, settings.data_dir


@pytest.mark.parametrize("url", REFUSED)
def test_an_internal_webhook_target_is_refused_at_submission(
    refusing_hub: tuple[TestClient, Path], url: str
) -> None:
    client, data_dir = refusing_hub
    r = submit(client, webhook_url=url)
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    if r.status_code == 400 and body["error"] == "webhook_target_refused":
        assert "WEBHOOK_ALLOW_HOSTS" in body["detail"]
        assert "127.0.0.1" not in body["detail"]  # says nothing of what the name resolves to
    else:
        assert url == "http://0177.0.0.1/" and body["error"] == "invalid_input", body
    assert client.get("/api/jobs").json()["total"] == 0  # nothing stored
    assert not [p for p in (data_dir / "jobs").rglob("*") if p.is_file()]


def test_an_allowed_receiver_gets_the_signed_webhook_and_only_its_owner_and_admins_see_it(
    tmp_path: Path, database_url: str | None,
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, got = receiver
    settings = hub_settings(tmp_path, database_url, WEBHOOK_ALLOW_HOSTS="127.0.0.1")
    with TestClient(create_app(settings)) as client:
        owner = bearer(client, "uploader")
        analyst, admin = bearer(client, "analyst"), bearer(client, "admin")
        client.headers.update(owner)
        r = submit(client, webhook_url=url)
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        wait_for(lambda: got, what="the webhook")
        headers, body = got[0]
        assert verify(body, headers[SIGNATURE_HEADER.lower()], SECRET)
        assert headers["x-audiohub-event"] == "job.done"
        sent = json.loads(body)["job"]  # the job as its owner reads it, less its delivery record
        assert sent["job_id"] == job_id and sent["result"]["category"] == "card_block"
        assert "webhook_attempts" not in sent and "submitted_by" not in sent
        attempts = wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["webhook_attempts"],
                            what="the recorded attempt")
        assert [(a["outcome"], a["status_code"]) for a in attempts] == [("delivered", 200)]
        assert attempts[0].keys() == {"at", "status_code", "outcome", "seconds"}

        for who, sees in ((owner, True), (admin, True), (analyst, False)):
            job = client.get(f"/api/jobs/{job_id}", headers=who).json()
            (listed,) = client.get("/api/jobs", headers=who).json()["items"]
            for shown in (job, listed):
                assert shown["status"] == "done" and "submitted_by" not in shown
                assert (shown["webhook_url"], shown["webhook_attempts"]) == (
                    (url, attempts) if sees else (None, []))


@contextlib.contextmanager
def http_receiver(host: str, status: int = 200,
                  location: str | None = None) -> Iterator[tuple[int, list[dict[str, str]]]]:
    """A real HTTP server bound to `host` only that answers every POST with `status`; yields its
    port and, for each request, its headers plus the address it arrived on."""
    got: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append({**{k.lower(): v for k, v in self.headers.items()},
                        "arrived-on": self.connection.getsockname()[0]})
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], got
    finally:
        server.shutdown()
        server.server_close()


class Answers:
    """A resolver (our seam) that gives each call the next answer, and counts the calls."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls += 1
        return [self.answers.pop(0)]


def test_a_name_that_resolves_elsewhere_after_the_check_is_refused_at_connection() -> None:
    """DNS rebinding: public when submitted, the hub's own loopback when sent."""
    with http_receiver("127.0.0.1") as (port, got):
        url = f"http://hooks.example:{port}/hook"
        resolver = Answers("93.184.215.14", "127.0.0.1")
        assert check_webhook_url(url, resolve=resolver) == url  # public: accepted
        attempts: list[WebhookAttempt] = []
        assert deliver(url, JOB, SECRET, resolve=resolver, record=attempts.append) is False
    assert resolver.calls == 2
    assert [(a.outcome, a.status_code) for a in attempts] == [("refused_address", None)]
    assert got == []  # nothing reached the receiver


def test_the_connection_goes_to_the_address_checked_never_to_the_name_again() -> None:
    """The name does not resolve here at all (no DNS), so the POST arrives only because the
    transport connected to the address it checked; Host and the receiver still see the name."""
    allowed = AddressPolicy.parse("127.0.0.2/32")  # WEBHOOK_ALLOW_HOSTS=127.0.0.2/32
    with http_receiver("127.0.0.2") as (port, got):
        url = f"http://hooks.example:{port}/hook"
        resolver = Answers("127.0.0.2", "127.0.0.2", "127.0.0.3")
        assert check_webhook_url(url, allowed, resolver) == url
        assert deliver(url, JOB, SECRET, policy=allowed, resolve=resolver) is True
        # Resolved once per connection, at the connection; a new answer outside the allowed
        # network is refused there too.
        assert resolver.calls == 2
        attempts: list[WebhookAttempt] = []
        assert deliver(url, JOB, SECRET, policy=allowed, resolve=resolver,
                       record=attempts.append) is False
    assert [a.outcome for a in attempts] == ["refused_address"]
    ((request),) = got
    assert request["host"] == f"hooks.example:{port}"
    assert request["arrived-on"] == "127.0.0.2"
    with pytest.raises(OSError):
        socket.getaddrinfo("hooks.example", port)  # the system could not have found it


def test_a_redirect_to_an_internal_address_is_not_followed() -> None:
    allowed = AddressPolicy.parse("127.0.0.1")
    with http_receiver("127.0.0.1") as (inner_port, inner), http_receiver(
            "127.0.0.1", 302, f"http://127.0.0.1:{inner_port}/admin") as (port, outer):
        attempts: list[WebhookAttempt] = []
        ok = deliver(f"http://127.0.0.1:{port}/hook", JOB, SECRET, policy=allowed,
                     record=attempts.append, backoff_s=0.01)
    assert ok is False and len(outer) == 1
    assert [(a.outcome, a.status_code) for a in attempts] == [("http_error", 302)]
    assert inner == []  # even an allowed target is not reached by a redirect


@contextlib.contextmanager
def silent_receiver() -> Iterator[tuple[str, list[socket.socket], list[float]]]:
    """Accepts connections and never answers; yields its URL, the connections and when each
    was accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    conns: list[socket.socket] = []
    accepted: list[float] = []

    def serve() -> None:
        with contextlib.suppress(OSError):  # closed: the test is over
            while True:
                conn, _ = server.accept()
                conns.append(conn)
                accepted.append(time.monotonic())

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook", conns, accepted
    finally:
        server.close()
        for conn in conns:
            conn.close()


def test_a_receiver_that_never_answers_does_not_delay_the_next_job(tmp_path: Path) -> None:
    settings = hub_settings(tmp_path, None, WEBHOOK_ALLOW_HOSTS="127.0.0.1",
                            WEBHOOK_TIMEOUT=300, WEBHOOK_ATTEMPTS=1)  # one worker (WORKERS=1)
    with TestClient(create_app(settings)) as client, silent_receiver() as (url, conns, accepted):
        client.headers.update(bearer(client, "uploader"))
        started = time.monotonic()
        first = submit(client, webhook_url=url).json()["job_id"]
        second = submit(client, OTHER_CALL).json()["job_id"]

        def status(job_id: str) -> str:
            state: str = client.get(f"/api/jobs/{job_id}").json()["status"]
            return state

        wait_for(lambda: status(first) == "done", what="the first job")
        first_done = time.monotonic()
        wait_for(lambda: status(second) in ("done", "failed"), what="the second job")
        second_done = time.monotonic()
        assert status(second) == "done"
        # The first job's only attempt is still waiting on the silent receiver.
        assert len(accepted) == 1 and accepted[0] < second_done
        assert client.get(f"/api/jobs/{first}").json()["webhook_attempts"] == []
        print(f"first job done {first_done - started:.2f} s after submission; its webhook "
              f"connected {accepted[0] - started:.2f} s; second job done "
              f"{second_done - started:.2f} s, {second_done - first_done:.2f} s after the "
              "first, while the webhook still waited (WEBHOOK_TIMEOUT 300 s)")
        conns[0].close()  # the receiver hangs up: the attempt ends, and is recorded
        attempts = wait_for(lambda: client.get(f"/api/jobs/{first}").json()["webhook_attempts"],
                            timeout=30, what="the attempt's record")
        assert [(a["outcome"], a["status_code"]) for a in attempts] == [("unreachable", None)]


def test_a_delivery_left_unfinished_by_a_stop_is_sent_at_the_next_start(
    tmp_path: Path, database_url: str | None,
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, got = receiver
    settings = hub_settings(tmp_path, database_url, WEBHOOK_ALLOW_HOSTS="127.0.0.1")
    with TestClient(create_app(settings)):
        pass  # migrates the database
    timeout = {"at": datetime.now(UTC).isoformat(), "status_code": None, "outcome": "timeout",
               "seconds": 10.0}
    delivered = {**timeout, "status_code": 200, "outcome": "delivered", "seconds": 0.1}
    refused = {**timeout, "status_code": 404, "outcome": "http_error"}
    rows = {"pending": [timeout], "never-tried": [], "delivered": [timeout, delivered],
            "refused": [refused], "given-up": [timeout] * 5}
    db = Database(settings.database_url)
    with db.session() as session:
        for job_id, attempts in rows.items():
            session.add(JobRow(id=job_id, status="failed", filename="call.wav",
                               audio_sha256="0" * 64, spool_path="gone.wav", timings={},
                               error={"error": "unsupported_audio", "detail": "not audio"},
                               webhook_url=url, webhook_attempts=attempts))
    db.engine.dispose()
    with TestClient(create_app(settings)) as client:
        client.headers.update(bearer(client, "admin"))

        def outcomes(job_id: str) -> list[str]:
            job = client.get(f"/api/jobs/{job_id}").json()
            return [a["outcome"] for a in job["webhook_attempts"]]

        wait_for(lambda: outcomes("pending")[-1:] == ["delivered"]
                 and outcomes("never-tried") == ["delivered"], 30, "the two deliveries")
        time.sleep(0.3)  # room for a wrong third one to arrive
        assert sorted(r[1].split(b'"job_id":"')[1].split(b'"')[0] for r in got) == [
            b"never-tried", b"pending"]
        assert outcomes("pending") == ["timeout", "delivered"]
        for job_id in ("delivered", "refused", "given-up"):
            assert outcomes(job_id) == [a["outcome"] for a in rows[job_id]]
