"""Webhook delivery against a real receiver on a loopback port (allowed by WEBHOOK_ALLOW_HOSTS'
policy, as loopback is refused by default) that answers with scripted statuses (and delays) and
keeps every request's headers and raw body: the signature verifies on the exact bytes received,
408/429/5xx, timeouts and refused connections are retried with backoff, other 4xx are not, every
attempt is recorded with its outcome and seconds only, and one attempt ends by WEBHOOK_TIMEOUT
however slowly the receiver answers."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from audiohub.errors import InvalidInputError, WebhookTargetError
from audiohub.jobs.schemas import WebhookAttempt
from audiohub.jobs.webhooks import (
    SIGNATURE_HEADER,
    AddressPolicy,
    IPAddress,
    check_webhook_url,
    deliver,
    sign,
    verify,
)
from tests.processes import free_port, serve_in_thread

SECRET = "whsec_test"
LOOPBACK = AddressPolicy.parse("127.0.0.1")  # WEBHOOK_ALLOW_HOSTS=127.0.0.1
JOB = {"event": "job.done", "id": "job_1", "status": "done", "result": {"text": "héllo"}}


class Receiver:
    """What the receiver answers next (status, delay); it keeps every request it got."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.delays: list[float] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        receiver.headers.append(dict(request.headers))
        receiver.bodies.append(await request.body())
        # Taken on arrival: a handler still sleeping after its client gave up must not take the
        # next test's answers.
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        delay = receiver.delays.pop(0) if receiver.delays else 0.0
        await asyncio.sleep(delay)
        return Response(b'{"ok":true}', status, media_type="application/json")

    with serve_in_thread(app) as url:
        yield f"{url}/hook", receiver


@pytest.fixture
def receiver(receiver_server: tuple[str, Receiver]) -> tuple[str, Receiver]:
    url, r = receiver_server
    r.statuses, r.delays, r.headers, r.bodies = [], [], [], []
    return url, r


def _deliver(url: str, secret: str | None = SECRET, **kw: Any) -> tuple[bool, list[WebhookAttempt]]:
    attempts: list[WebhookAttempt] = []
    ok = deliver(url, JOB, secret, backoff_s=0.02, record=attempts.append, policy=LOOPBACK, **kw)
    return ok, attempts


def test_the_signature_verifies_on_the_exact_received_body(receiver: tuple[str, Receiver]) -> None:
    url, r = receiver
    assert _deliver(url)[0] is True
    (headers,), (body,) = r.headers, r.bodies
    assert json.loads(body) == JOB
    assert b" " not in body.replace(b'"h\xc3\xa9llo"', b"")  # compact JSON
    assert headers["content-type"] == "application/json"
    assert headers["x-audiohub-event"] == "job.done"
    header = headers[SIGNATURE_HEADER.lower()]
    t = int(header.split(",")[0].removeprefix("t="))
    assert abs(t - time.time()) < 5
    assert verify(body, header, SECRET)
    assert not verify(body, header, "whsec_wrong")
    assert not verify(body.replace(b"done", b"fail", 1), header, SECRET)
    assert not verify(body, header, SECRET, now=t + 301)  # stale: a replay
    assert verify(body, header, SECRET, now=t + 299)


@pytest.mark.parametrize("header", [
    "", "garbage", "v1=00", "t=1700000000", "t=abc,v1=00", "t=1700000000,t=1700000000,v1=00",
])
def test_malformed_signature_headers_never_verify(header: str) -> None:
    assert not verify(b"{}", header, SECRET, now=1_700_000_000)


def test_any_matching_v1_verifies_so_receivers_can_rotate_secrets() -> None:
    good = sign(b"{}", SECRET, 1_700_000_000)
    assert good.startswith("t=1700000000,v1=") and len(good.split("v1=")[1]) == 64
    header = good.replace("v1=", "v1=" + "0" * 64 + ",v1=")
    assert verify(b"{}", header, SECRET, now=1_700_000_000)


def test_without_a_secret_there_is_no_signature_header(receiver: tuple[str, Receiver]) -> None:
    url, r = receiver
    assert _deliver(url, secret=None)[0] is True
    assert SIGNATURE_HEADER.lower() not in r.headers[0]


def test_5xx_is_retried_with_backoff_until_a_2xx(receiver: tuple[str, Receiver]) -> None:
    url, r = receiver
    r.statuses = [500, 500, 200]
    attempts: list[WebhookAttempt] = []
    assert deliver(url, JOB, SECRET, backoff_s=0.05, record=attempts.append,
                   policy=LOOPBACK) is True
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert [a.outcome for a in attempts] == ["http_error", "http_error", "delivered"]
    assert all(a.seconds >= 0 for a in attempts)
    first, second, third = (a.at for a in attempts)
    assert (second - first).total_seconds() >= 0.05  # backoff_s
    assert (third - second).total_seconds() >= 0.1  # 2 * backoff_s
    assert len(r.bodies) == 3 and len(set(r.bodies)) == 1  # the same bytes every time


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_not_now_statuses_are_retried(receiver: tuple[str, Receiver], status: int) -> None:
    url, r = receiver
    r.statuses = [status]
    ok, attempts = _deliver(url)
    assert ok is True and [a.status_code for a in attempts] == [status, 200]


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422, 302])
def test_a_refusal_ends_after_one_attempt(receiver: tuple[str, Receiver], status: int) -> None:
    url, r = receiver
    r.statuses = [status]
    ok, attempts = _deliver(url)
    assert ok is False
    assert len(r.headers) == 1 and [a.status_code for a in attempts] == [status]
    assert attempts[0].outcome == "http_error"


def test_after_the_last_attempt_it_returns_false(receiver: tuple[str, Receiver]) -> None:
    url, r = receiver
    r.statuses = [503] * 10
    ok, attempts = _deliver(url, attempts=4)
    assert ok is False and len(r.headers) == 4
    assert [a.status_code for a in attempts] == [503] * 4


def test_timeouts_are_retried(receiver: tuple[str, Receiver]) -> None:
    url, r = receiver
    r.delays = [1.0, 1.0]
    ok, attempts = _deliver(url, attempts=3, timeout_s=0.2)
    assert ok is True and len(r.headers) == 3
    assert [a.status_code for a in attempts] == [None, None, 200]
    assert [a.outcome for a in attempts] == ["timeout", "timeout", "delivered"]
    assert all(0.15 <= a.seconds < 1 for a in attempts[:2])


def test_a_refused_connection_is_retried_then_false() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    ok, attempts = _deliver(url, attempts=3)
    assert ok is False and len(attempts) == 3
    assert all(a.status_code is None and a.outcome == "unreachable" for a in attempts)
    assert attempts[0].at < attempts[1].at < attempts[2].at


@contextlib.contextmanager
def raw_receiver(answer: Any) -> Iterator[tuple[str, list[float]]]:
    """A loopback TCP server that runs `answer(conn)` for each connection it accepts (not HTTP
    unless `answer` writes it); yields its URL and when each connection was accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[float] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # closed: the test is over
            accepted.append(time.monotonic())
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook", accepted
    finally:
        server.close()


def test_an_answer_trickled_a_byte_at_a_time_ends_at_the_timeout() -> None:
    """A per-read timeout alone would let a receiver that sends one byte every 0.2 s hold the
    attempt for ever; the attempt's deadline ends it at timeout_s in all."""
    def trickle(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200:
                time.sleep(0.2)
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the hub hung up: what this test wants

    with raw_receiver(trickle) as (url, accepted):
        ok, attempts = _deliver(url, attempts=1, timeout_s=1.0)
    assert ok is False and len(accepted) == 1
    ((attempt),) = attempts
    print(f"trickled answer: attempt ended after {attempt.seconds} s (timeout 1 s)")
    assert attempt.outcome == "timeout" and attempt.status_code is None


@pytest.mark.parametrize("answer", [b"", b"SSH-2.0-OpenSSH_9.6\r\n", b"-ERR unknown command\r\n"])
def test_attempts_hold_no_error_text(answer: bytes) -> None:
    """A closed port and open non-HTTP ones look alike in the record: an outcome, no text."""
    def speak(conn: socket.socket) -> None:
        with conn:
            conn.sendall(answer)

    with raw_receiver(speak) as (url, _):
        closed = f"http://127.0.0.1:{free_port()}/hook"
        records = [_deliver(u, attempts=1)[1][0] for u in (url, closed)]
    for record in records:
        assert record.model_dump().keys() == {"at", "status_code", "outcome", "seconds"}
        assert (record.status_code, record.outcome) == (None, "unreachable")


@pytest.mark.parametrize("url", [
    "ftp://example.com/hook", "file:///etc/passwd", "javascript:alert(1)", "example.com/hook",
    "http://", "https:///hook", "http://example.com:99999/", "http://example.com/\n",
    "https://example.com/" + "a" * 1981,
])
def test_invalid_urls_are_rejected(url: str) -> None:
    with pytest.raises(InvalidInputError):
        check_webhook_url(url)


def public(host: str, port: int) -> list[IPAddress]:
    """A resolver (our seam) for a name with a public address: there is no DNS here."""
    return [ipaddress.ip_address("93.184.215.14")]


@pytest.mark.parametrize("url", [
    "https://example.com/hooks/audiohub?x=1", "http://93.184.215.14:8080/hook",
    "https://example.com/" + "a" * 1980,  # exactly 2000 characters
])
def test_valid_urls_are_returned(url: str) -> None:
    assert check_webhook_url(url, resolve=public) == url


def test_a_loopback_url_is_refused_unless_allowed() -> None:
    with pytest.raises(WebhookTargetError):
        check_webhook_url("http://127.0.0.1:8080/hook")
    assert check_webhook_url("http://127.0.0.1:8080/hook", LOOPBACK)


def test_delivery_to_a_refused_address_is_not_attempted_again() -> None:
    attempts: list[WebhookAttempt] = []
    url = f"http://127.0.0.1:{free_port()}/hook"
    assert deliver(url, JOB, SECRET, record=attempts.append) is False  # the default policy
    assert [(a.outcome, a.status_code) for a in attempts] == [("refused_address", None)]


def test_deliver_refuses_an_invalid_url_before_sending() -> None:
    attempts: list[WebhookAttempt] = []
    with pytest.raises(InvalidInputError):
        deliver("ftp://example.com/hook", JOB, SECRET, record=attempts.append)
    assert attempts == []
