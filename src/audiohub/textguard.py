"""Text a request carries in its URL or url-encoded form, checked once before any route sees it.

A NUL character reaches PostgreSQL as an error inside the query ("text fields cannot contain NUL
bytes"), a percent-encoded lone surrogate or stray byte is not text at all, and a value of
megabytes is never a real filter: each became a 500 (or a 502 from a stage) deep in some route.
Refusing them here, for every service the hub runs, is one check instead of one per parameter.
Strings inside JSON bodies are checked by the schemas (`audiohub.domain.CleanStr`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# respond(request, status, error, detail): the hub's error answer (audiohub.api.respond), JSON
# for the API and a page for the dashboard.
Responder = Callable[[Request, int, str, str], Response]

# Generous caps: every real id, filter or redirect target is far shorter, and a route's own
# validation (max_length) still applies below them.
MAX_VALUE = 2000
MAX_PATH = 2000
# A form field may hold more: the dashboard's prompt text is up to 20,000 characters.
MAX_FORM_VALUE = 20000
# The dashboard's largest form (a prompt: four fields of up to 20,000 characters, percent-encoded)
# stays well under this; the form is read into memory to be checked, so it must be bounded.
MAX_FORM_BYTES = 2 * 1024 * 1024
_FORM = b"application/x-www-form-urlencoded"


def text_problem(where: str, raw: bytes, limit: int) -> str | None:
    """What is wrong with one decoded-to-bytes piece of text, or None when it is fine."""
    try:
        # Strict UTF-8 refuses stray bytes and encoded surrogates (%ED%A0%80) alike.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"{where}: is not valid UTF-8 text (a stray byte or a lone surrogate)"
    if "\x00" in text:
        return f"{where}: must not contain NUL (%00) characters"
    if len(text) > limit:
        return f"{where}: is longer than {limit} characters"
    return None


def _pairs(encoded: bytes) -> Iterator[tuple[bytes, bytes]]:
    """name=value pairs of a query string or url-encoded form, percent-decoded to bytes (the
    same split Starlette makes: '&' between pairs, '+' for a space)."""
    for part in encoded.split(b"&"):
        if not part:
            continue
        name, _, value = part.replace(b"+", b" ").partition(b"=")
        yield unquote_to_bytes(name), unquote_to_bytes(value)


def pairs_problem(kind: str, encoded: bytes, limit: int) -> str | None:
    """The first bad name or value of a query string or url-encoded form ("query.domain: ...")."""
    for raw_name, raw_value in _pairs(encoded):
        problem = text_problem(kind, raw_name, 200)
        if problem is not None:
            return problem.replace(f"{kind}:", f"{kind}: a parameter name", 1)
        where = f"{kind}.{raw_name.decode()}"
        problem = text_problem(where, raw_value, limit)
        if problem is not None:
            return problem
    return None


def url_problem(scope: Scope, max_path: int = MAX_PATH, max_value: int = MAX_VALUE) -> str | None:
    """What is wrong with the request's path or query string, or None."""
    # raw_path keeps the bytes the client sent; `path` is already decoded, with bad bytes
    # replaced, so it could no longer tell a stray byte from a real U+FFFD.
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    problem = text_problem("path", unquote_to_bytes(raw_path), max_path)
    return problem or pairs_problem("query", scope.get("query_string", b""), max_value)


class TextGuard:
    """Pure ASGI middleware: 422 `invalid_request`, naming the parameter, for a path, query
    parameter or url-encoded form field that holds NUL, is not UTF-8 or is too long."""

    def __init__(self, app: ASGIApp, respond: Responder, max_value: int = MAX_VALUE,
                 max_path: int = MAX_PATH, max_form_bytes: int = MAX_FORM_BYTES) -> None:
        self.app = app
        self.respond = respond
        self.max_value = max_value
        self.max_path = max_path
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = url_problem(scope, self.max_path, self.max_value)
        if problem is None and _is_form(scope):
            body, complete = await _read(receive, self.max_form_bytes)
            if not complete:
                response = self.respond(
                    Request(scope), 413, "form_too_large",
                    f"a url-encoded form may be at most {self.max_form_bytes // 1024} KB")
                await response(scope, receive, send)
                return
            problem = pairs_problem("form", body, MAX_FORM_VALUE)
            receive = _replay(body, receive)
        if problem is not None:
            response = self.respond(Request(scope), 422, "invalid_request", problem)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _is_form(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == _FORM)
    return False


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, and True; or what was read when it passed `limit`, and False."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks), True
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then whatever comes after (a
    disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
