"""Webhook delivery for finished jobs: the job is POSTed to its `webhook_url`, signed with
HMAC-SHA256 under WEBHOOK_SECRET (Stripe's scheme), retried with backoff, every attempt recorded.
Delivery problems never raise: a receiver being down must not fail the job it is told about."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel
from pydantic_core import to_json
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from audiohub.errors import InvalidInputError

SIGNATURE_HEADER = "X-AudioHub-Signature"
EVENT_HEADER = "X-AudioHub-Event"
MAX_URL_LENGTH = 2000


class WebhookAttempt(BaseModel):
    """One POST to the receiver: its HTTP status, or the transport error when there was none."""

    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


def check_webhook_url(url: str) -> str:
    """Validate a webhook URL at submission time, so a bad one fails the request, not the job.

    Raises:
        InvalidInputError: not http(s), no host, a bad port, or longer than 2000 characters.
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInputError(f"webhook_url is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)  # the parser that will send it, so both agree on the URL
        port = parsed.port
    except httpx.InvalidURL as e:
        raise InvalidInputError(f"webhook_url is not a valid URL: {e}") from e
    if parsed.scheme not in ("http", "https"):
        raise InvalidInputError("webhook_url must be an http:// or https:// URL")
    if not parsed.host:
        raise InvalidInputError("webhook_url has no host")
    if port is not None and not 0 < port < 65536:
        raise InvalidInputError(f"webhook_url has an invalid port: {port}")
    return url


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>`."""
    # The timestamp is signed too, so a captured request cannot be replayed later with a new one.
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    body: bytes, header: str, secret: str, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """True only when a v1 signature matches and the timestamp is fresh; receivers may copy it.

    Verify the raw request body exactly as received (before any JSON parsing), e.g. in FastAPI::

        body = await request.body()
        if not verify(body, request.headers["X-AudioHub-Signature"], WEBHOOK_SECRET):
            raise HTTPException(401)

    Args:
        body: the raw request body.
        header: the X-AudioHub-Signature value, `t=<unix seconds>,v1=<hex>` (several v1 allowed).
        secret: the shared WEBHOOK_SECRET.
        tolerance_s: the largest accepted age (or clock skew) of the timestamp, in seconds.
        now: the current unix time; defaults to time.time().
    """
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v.strip() for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False  # stale: possibly a replay of a request captured earlier
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    # compare_digest takes as long whatever the mismatch, so timing reveals nothing.
    return any(hmac.compare_digest(expected, s) for s in signatures)


def deliver(
    url: str, payload: dict[str, Any], secret: str | None, *, attempts: int = 5,
    backoff_s: float = 1.0, timeout_s: float = 10.0, client: httpx.Client | None = None,
    record: Callable[[WebhookAttempt], None] | None = None,
) -> bool:
    """POST `payload` as compact JSON to `url`, retried on connection errors, timeouts, 408, 429
    and 5xx, waiting backoff_s, 2*backoff_s, ... between attempts.

    Args:
        payload: the job; `payload["event"]`, when present, is also sent as X-AudioHub-Event.
        secret: signs every attempt in the X-AudioHub-Signature header; None sends no header.
        client: an httpx client to reuse; without one a client is opened for this delivery.
        record: called with every attempt, success or not, as soon as it ends.

    Returns:
        True on a 2xx; False on any other status that retrying cannot change (4xx, 3xx: a signed
        POST is never redirected), or when the last attempt failed too.

    Raises:
        InvalidInputError: the URL is not an http(s) URL (see check_webhook_url).
    """
    check_webhook_url(url)
    body = to_json(payload)  # once: the signature covers exactly these bytes
    headers = {"Content-Type": "application/json"}
    if isinstance(payload.get("event"), str):
        headers[EVENT_HEADER] = payload["event"]

    def attempt(http: httpx.Client) -> bool | None:
        """One POST: True done, False refused, None worth another try."""
        if secret:  # signed afresh each time, so a late retry is not rejected as stale
            headers[SIGNATURE_HEADER] = sign(body, secret, int(time.time()))
        at, started = datetime.now(UTC), time.monotonic()
        status: int | None
        error: str | None = None
        try:
            status = http.post(url, content=body, headers=headers, timeout=timeout_s).status_code
        except httpx.HTTPError as e:  # connection refused, timeout, reset ...: may pass
            status, error = None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if record is not None:
            duration = round((time.monotonic() - started) * 1000)
            record(WebhookAttempt(at=at, status_code=status, error=error, duration_ms=duration))
        # 408/429/5xx say "not now", not "no": the same request may succeed later.
        if status is None or status in (408, 429) or status >= 500:
            return None
        return 200 <= status < 300

    retrying = Retrying(
        stop=stop_after_attempt(attempts), wait=wait_exponential(multiplier=backoff_s),
        retry=retry_if_result(lambda r: r is None), retry_error_callback=lambda _: False,
    )
    # A client we open is closed even when `record` raises; the caller's is left open.
    with nullcontext(client) if client is not None else httpx.Client() as http:
        return bool(retrying(attempt, http))
