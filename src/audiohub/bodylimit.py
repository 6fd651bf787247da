"""The request body limit, held while the body streams: chunked or not, a request is cut off with
413 `file_too_large` as soon as its bytes pass the limit, and nothing it sent stays on disk.

A Content-Length check alone let a chunked body through: Starlette spooled all of it (300 MB) and
the upload code copied ~200 MB into data/tmp before refusing it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiohub.errors import UploadTooLargeError

# respond(request, status, error, detail, headers): the hub's error answer (audiohub.api.respond),
# JSON for the API and a page for the dashboard.
Responder = Callable[..., Response]


class BodyLimit:
    """Refuses a request body past `limit` bytes: at once when its Content-Length says so, else
    as soon as the bytes read pass it.

    Pure ASGI, counting in `receive`, so the app (Starlette's multipart spool, our staged file)
    never holds more than the limit. Reading past it raises UploadTooLargeError inside whatever
    was reading; that code cleans up on the way out (Starlette closes its spooled parts, a
    staging `_Sink` removes its file), and whatever the app then answers (FastAPI turns a failed
    form read into a 400) is replaced by the 413. The 413 says `Connection: close`: uvicorn then
    closes the connection instead of reading and discarding the rest of the body. (Starlette's
    own RequestBodyLimitMiddleware answers in plain text and keeps the connection open.)
    """

    def __init__(self, app: ASGIApp, limit: int, detail: str, respond: Responder) -> None:
        self.app, self.limit, self.detail, self.respond = app, limit, detail, respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        read, over, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal read, over
            if over:  # not one more byte of a body already refused
                raise UploadTooLargeError(self.detail)
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.limit:
                    over = True
                    raise UploadTooLargeError(self.detail)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's own answer to the cut-off body: the 413 goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.respond(Request(scope), 413, "file_too_large", self.detail,
                                {"Connection": "close"})
        await response(scope, receive, send)
