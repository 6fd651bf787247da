"""Webhooks for finished jobs: where one may be sent, and how one attempt is made.

A job is POSTed to its `webhook_url`, signed with HMAC-SHA256 under WEBHOOK_SECRET (Stripe's
scheme). A client gives us that URL, so it must not turn the hub into a way in to the network it
runs on (SSRF): its host is resolved and refused if any address is loopback, private, link-local,
multicast, unspecified or otherwise not public, unless WEBHOOK_ALLOW_HOSTS lists it. The check is
made when the job is submitted and again on every connection, by the network backend itself,
which connects to the very address it checked: a name that resolves elsewhere by then (DNS
rebinding) is refused. Redirects are never followed. `delivery.py` runs the attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx
from pydantic_core import to_json

from audiohub.errors import ConfigurationError, InvalidInputError, WebhookTargetError
from audiohub.jobs.schemas import WebhookAttempt, WebhookOutcome

log = logging.getLogger("audiohub")

SIGNATURE_HEADER = "X-AudioHub-Signature"
EVENT_HEADER = "X-AudioHub-Event"
MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> every address the host has. Our seam: the tests swap in a resolver that changes
# its answer between the check at submission and the connection (DNS rebinding).
Resolver = Callable[[str, int], list[IPAddress]]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv4 addresses reached through a NAT64 gateway


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """The addresses the system would connect to for `host`, as `socket.create_connection` finds
    them: numeric forms such as `2130706433`, `0x7f.1` or `127.1` included.

    Raises:
        OSError: the host does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def internal_kind(ip: IPAddress) -> str | None:
    """What makes `ip` internal ("loopback", "private" ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address written as IPv6 is judged as the IPv4 address it reaches.
        v4 = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
                                if ip in _NAT64 else None)
        if v4 is not None:
            return internal_kind(v4)
        if ip.sixtofour is not None and (kind := internal_kind(ip.sixtofour)):
            return kind
    kinds = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
             ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
             ("private", ip.is_private), ("reserved", ip.is_reserved))
    for kind, found in kinds:
        if found:
            return kind
    # Shared (carrier-grade NAT) space and the like: neither private nor public.
    return None if ip.is_global else "non-public"


@dataclass(frozen=True)
class AddressPolicy:
    """Where webhooks may go: public addresses, plus the hosts and networks an operator lists."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, allow: str) -> AddressPolicy:
        """From WEBHOOK_ALLOW_HOSTS: comma-separated host names, addresses or CIDRs.

        Raises:
            ConfigurationError: an entry with a `/` that is not a network.
        """
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in allow.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError as exc:
                if "/" in entry:
                    raise ConfigurationError(
                        f"WEBHOOK_ALLOW_HOSTS: {entry!r} is not a network such as 10.0.0.0/8"
                    ) from exc
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def refusal(self, host: str, addresses: Iterable[IPAddress]) -> str | None:
        """Why `host` at these addresses may not be reached, or None when it may."""
        if host.lower().rstrip(".") in self.hosts:
            return None
        for ip in addresses:
            kind = internal_kind(ip)
            seen = (ip, ip.ipv4_mapped) if isinstance(ip, ipaddress.IPv6Address) else (ip,)
            if kind and not any(a is not None and a in net for a in seen for net in self.networks):
                return f"{host} resolves to {ip}, a {kind} address"
        return None


def check_form(url: str) -> tuple[str, int]:
    """The host and port of a well-formed http(s) URL.

    Raises:
        InvalidInputError: not http(s), no host, a bad port, or longer than 2000 characters.
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInputError(f"webhook_url is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)  # the parser that sends it, so both agree on the URL
        port = parsed.port
    except httpx.InvalidURL as e:
        raise InvalidInputError(f"webhook_url is not a valid URL: {e}") from e
    if parsed.scheme not in ("http", "https"):
        raise InvalidInputError("webhook_url must be an http:// or https:// URL")
    if not parsed.host:
        raise InvalidInputError("webhook_url has no host")
    if port is not None and not 0 < port < 65536:
        raise InvalidInputError(f"webhook_url has an invalid port: {port}")
    return parsed.host, port or (443 if parsed.scheme == "https" else 80)


def check_webhook_url(url: str, policy: AddressPolicy | None = None,
                      resolve: Resolver = resolve_host) -> str:
    """Validate a webhook URL at submission time, so a bad one fails the request, not the job.

    Raises:
        InvalidInputError: the URL's form is wrong (see check_form).
        WebhookTargetError: the host does not resolve, or resolves to an internal address that
            WEBHOOK_ALLOW_HOSTS does not list.
    """
    host, port = check_form(url)
    try:
        why = (policy or AddressPolicy()).refusal(host, resolve(host, port))
    except (OSError, ValueError, UnicodeError):
        why = f"{host} does not resolve"
    if why is not None:
        log.info("webhook_url refused: %s", why)  # the reason for the operator, not the caller
        # One answer whether the name is unknown or internal: the caller learns nothing about
        # which internal names exist.
        raise WebhookTargetError(
            "webhook_url must reach a public address: its host does not resolve, or resolves "
            "to a loopback, private, link-local, multicast or reserved one; an operator can "
            "allow an internal receiver with WEBHOOK_ALLOW_HOSTS")
    return url


class RefusedAddressError(httpcore.ConnectError):
    """The host resolved, at connection time, to an address the policy refuses."""


class _Deadline(httpcore.NetworkStream):
    """A stream whose every read and write ends by one deadline: a receiver that answers a
    byte at a time cannot hold an attempt past WEBHOOK_TIMEOUT."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self.stream, self.deadline = stream, deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("the attempt ran out of time")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        # server_hostname is the URL's host: SNI and the certificate check use the name.
        tls = self.stream.start_tls(ssl_context, server_hostname,
                                    self._left(timeout, httpcore.ConnectTimeout))
        return _Deadline(tls, self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


@dataclass
class PinnedBackend(httpcore.NetworkBackend):
    """httpcore's network backend for one attempt: resolves the host once, checks every address,
    and connects to a checked address, never to the name (which could resolve elsewhere)."""

    policy: AddressPolicy
    deadline: float
    resolve: Resolver = resolve_host
    inner: httpcore.NetworkBackend = field(default_factory=httpcore.SyncBackend)
    connected: IPAddress | None = None  # the address the attempt reached, for the log

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.resolve(host, port)
        except (OSError, ValueError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        if (why := self.policy.refusal(host, addresses)) is not None:
            raise RefusedAddressError(why)
        error: Exception = httpcore.ConnectError(f"{host}: no address answered")
        for ip in addresses:  # in the resolver's order, as socket.create_connection would
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ConnectTimeout("the attempt ran out of time")
            try:
                stream = self.inner.connect_tcp(
                    str(ip), port, left if timeout is None else min(timeout, left),
                    local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            self.connected = ip
            return _Deadline(stream, self.deadline)
        raise error

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


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


def send_once(url: str, body: bytes, secret: str | None, *, event: str | None = None,
              timeout_s: float = 10.0, policy: AddressPolicy | None = None,
              resolve: Resolver = resolve_host) -> WebhookAttempt:
    """POST `body` (JSON) to `url` once, within `timeout_s` in all; never raises for the
    receiver's sake: what happened is the attempt's outcome (the reason goes to the log only).
    """
    headers = {"Content-Type": "application/json", "User-Agent": "audiohub-webhook"}
    if event:
        headers[EVENT_HEADER] = event
    if secret:  # signed afresh each time, so a late retry is not rejected as stale
        headers[SIGNATURE_HEADER] = sign(body, secret, int(time.time()))
    at, started = datetime.now(UTC), time.monotonic()
    backend = PinnedBackend(policy or AddressPolicy(), started + timeout_s, resolve)
    status: int | None = None
    outcome: WebhookOutcome
    try:
        # One connection per attempt (no pool to share): a connection made for one host is
        # never reused for another that resolves to the same address.
        with httpcore.ConnectionPool(network_backend=backend, max_keepalive_connections=0) as pool:
            timeouts = dict.fromkeys(("connect", "read", "write", "pool"), timeout_s)
            # Streamed and closed unread: only the status matters, and a huge answer is not
            # taken in. httpcore never follows a redirect: a 3xx is the receiver's answer.
            with pool.stream("POST", url, headers=list(headers.items()), content=body,
                             extensions={"timeout": timeouts}) as response:
                status = response.status
        outcome = "delivered" if 200 <= status < 300 else "http_error"
    except RefusedAddressError as exc:
        outcome = "refused_address"
        log.warning("webhook to %s refused at connection: %s", _host(url), exc)
    except httpcore.TimeoutException:
        outcome = "timeout"
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
            OSError) as exc:
        outcome = "unreachable"
        log.info("webhook to %s unreachable: %s: %s", _host(url), type(exc).__name__, exc)
    seconds = round(time.monotonic() - started, 3)
    log.debug("webhook to %s via %s: %s in %.3f s", _host(url), backend.connected, outcome,
              seconds)
    return WebhookAttempt(at=at, status_code=status, outcome=outcome, seconds=seconds)


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:
        return "?"


def next_wait(attempts: list[WebhookAttempt], max_attempts: int,
              backoff_s: float) -> float | None:
    """Seconds to wait before the next attempt, or None when there is to be none: delivered,
    refused for good (a 3xx or 4xx other than 408/429, a refused address), or out of attempts.
    Connection errors, timeouts, 408, 429 and 5xx say "not now": waits double from backoff_s."""
    if not attempts:
        return 0.0
    last = attempts[-1]
    again = (last.outcome in ("unreachable", "timeout") or last.status_code in (408, 429)
             or (last.status_code or 0) >= 500)
    if not again or len(attempts) >= max_attempts:
        return None
    return float(backoff_s * 2 ** (len(attempts) - 1))


def encode(payload: dict[str, Any]) -> bytes:
    """The body: compact JSON, made once, since the signature covers exactly these bytes."""
    return to_json(payload)


def deliver(
    url: str, payload: dict[str, Any], secret: str | None, *, attempts: int = 5,
    backoff_s: float = 1.0, timeout_s: float = 10.0, policy: AddressPolicy | None = None,
    resolve: Resolver = resolve_host, record: Callable[[WebhookAttempt], None] | None = None,
) -> bool:
    """Deliver `payload` here and now (blocking), retried as `next_wait` says; the job service
    uses `delivery.Deliveries`, which runs the same attempts on threads of its own.

    Args:
        payload: the JSON body; `payload["event"]`, when present, is also sent as
            X-AudioHub-Event.
        secret: signs every attempt in the X-AudioHub-Signature header; None sends no header.
        record: called with every attempt, success or not, as soon as it ends.

    Returns:
        True once delivered (a 2xx); False when refused or when the last attempt failed too.

    Raises:
        InvalidInputError: the URL is not an http(s) URL (see check_form).
    """
    check_form(url)  # its addresses are checked on connecting
    body = encode(payload)
    event = payload["event"] if isinstance(payload.get("event"), str) else None
    made: list[WebhookAttempt] = []
    while (wait := next_wait(made, attempts, backoff_s)) is not None:
        time.sleep(wait)
        made.append(send_once(url, body, secret, event=event, timeout_s=timeout_s,
                              policy=policy, resolve=resolve))
        if record is not None:
            record(made[-1])
    return bool(made) and made[-1].outcome == "delivered"
