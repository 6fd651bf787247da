"""A local stand-in for the Gemini API that speaks its REST wire format, for wire-format tests.

A real FastAPI app on a loopback port (uvicorn in a thread) serves the routes the google-genai
SDK calls: `POST /v1beta/models/{model}:generateContent`, the Files API's resumable upload
(`POST /upload/v1beta/files` with X-Goog-Upload-Command start, then upload/finalize on the URL it
hands back), `GET` and `DELETE /v1beta/files/{id}`. It answers Gemini's JSON shapes (candidates,
finishReason, usageMetadata; errors as {"error": {code, message, status, details}}), rejects a
responseSchema the way Gemini does (unknown keywords, list-valued `type`), records every request,
and answers generateContent from a script: texts, error statuses with Retry-After, delays.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.processes import free_port, serve_in_thread

# What Gemini's v1beta Schema message has (anything else is "Unknown name ... Cannot find field").
SCHEMA_FIELDS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
}
# Google's REST front end parses proto JSON, which takes each field's original (snake_case) name
# as well as its lowerCamelCase one; the SDK sends nested schemas in snake_case.
SCHEMA_FIELDS |= {re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), f) for f in SCHEMA_FIELDS}
SCHEMA_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
                "TYPE_UNSPECIFIED"}
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass
class Reply:
    """One scripted generateContent answer."""

    text: str = ""
    status: int = 200
    finish_reason: str = "STOP"
    delay: float = 0.0  # seconds before answering (longer than the client's timeout = timeout)
    retry_after: str | None = None  # Retry-After header on an error
    retry_delay: str | None = None  # google.rpc.RetryInfo retryDelay on an error, e.g. "1s"
    prompt_tokens: int = 100
    output_tokens: int = 20


def answer(data: Any, **kw: Any) -> Reply:
    """A 200 whose text is `data` as JSON (or `data` itself when it is already a string)."""
    return Reply(text=data if isinstance(data, str) else json.dumps(data), **kw)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the byte count of a binary upload chunk
    at: float = field(default_factory=time.monotonic)


def schema_problems(schema: Any, where: str = "generation_config.response_schema") -> list[str]:
    """What Gemini would reject in a responseSchema, in its own words."""
    if not isinstance(schema, dict):
        return [f"Invalid value at '{where}': not an object"]
    problems = [f"Unknown name \"{key}\" at '{where}': Cannot find field."
                for key in schema if key not in SCHEMA_FIELDS]
    kind = schema.get("type")
    if isinstance(kind, list):
        problems.append(f"Invalid value at '{where}.type': Proto field is not repeating, "
                        "cannot start list.")
    elif kind is not None and kind not in SCHEMA_TYPES:
        problems.append(f"Invalid value at '{where}.type' (type.googleapis.com/"
                        f"google.ai.generativelanguage.v1beta.Type), \"{kind}\"")
    for name, sub in (schema.get("properties") or {}).items():
        problems += schema_problems(sub, f"{where}.properties[{name}].value")
    if "items" in schema:
        problems += schema_problems(schema["items"], f"{where}.items")
    for i, sub in enumerate(schema.get("anyOf") or schema.get("any_of") or []):
        problems += schema_problems(sub, f"{where}.any_of[{i}]")
    return problems


def _error(status: int, message: str, headers: dict[str, str] | None = None,
           details: list[dict[str, Any]] | None = None) -> JSONResponse:
    body = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status, headers=headers)


class GeminiServer:
    """Start with `with GeminiServer() as server:`; point GEMINI_BASE_URL at `server.url`."""

    def __init__(self, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self.script: list[Reply] = []
        self.default: Reply | None = None  # answers when the script is used up ("forever")
        self.requests: list[Recorded] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.processing_polls = 1  # GETs of a new file that still say PROCESSING
        self._uploads: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._polls: dict[str, int] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._running = contextlib.ExitStack()

    def __enter__(self) -> GeminiServer:
        self._running.enter_context(serve_in_thread(self._app(), self.port))
        return self

    def __exit__(self, *_: object) -> None:
        self._running.close()

    def reset(self) -> None:
        self.script, self.default, self.requests = [], None, []
        self.files, self._uploads, self._polls = {}, {}, {}
        self.processing_polls = 1

    def generate_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(":generateContent")]

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record_and_authorise(request: Request, call_next: Any) -> Response:
            raw = await request.body()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = len(raw)
            self.requests.append(Recorded(request.method, request.url.path,
                                          dict(request.headers), body))
            if request.headers.get("x-goog-api-key") is None and "upload_id" not in str(
                    request.url):
                return _error(403, "Method doesn't allow unregistered callers (callers "
                                   "without established identity). Please use API Key.")
            if request.headers.get("x-goog-api-key", self.api_key) != self.api_key:
                return _error(400, "API key not valid. Please pass a valid API key.")
            response: Response = await call_next(request)
            return response

        @app.post("/v1beta/models/{target}")
        async def generate(target: str, request: Request) -> Response:
            model, _, method = target.partition(":")
            if method != "generateContent":
                return _error(404, f"method {method} not served by the fake")
            body = await request.json()
            problems = schema_problems(
                body.get("generationConfig", {}).get("responseSchema", {}))
            if problems:
                return _error(400, "Invalid JSON payload received. " + " ".join(problems))
            for part in body["contents"][-1]["parts"]:
                uri = part.get("fileData", {}).get("fileUri")
                if uri is not None:
                    file = self.files.get(uri.rsplit("/files/", 1)[-1])
                    if file is None or file["state"] != "ACTIVE":
                        return _error(400, f"The File {uri} is not in an ACTIVE state and "
                                           "usage is not allowed.")
            reply = self.script.pop(0) if self.script else self.default
            if reply is None:
                return _error(400, "fake Gemini: no scripted reply left")
            await asyncio.sleep(reply.delay)
            if reply.status != 200:
                headers = {"Retry-After": reply.retry_after} if reply.retry_after else None
                details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                            "retryDelay": reply.retry_delay}] if reply.retry_delay else None
                return _error(reply.status, f"scripted {reply.status}", headers, details)
            return JSONResponse({
                "candidates": [{
                    "content": {"parts": [{"text": reply.text}], "role": "model"},
                    "finishReason": reply.finish_reason, "index": 0, "avgLogprobs": -0.12}],
                "usageMetadata": {
                    "promptTokenCount": reply.prompt_tokens,
                    "candidatesTokenCount": reply.output_tokens,
                    "totalTokenCount": reply.prompt_tokens + reply.output_tokens,
                    "promptTokensDetails": [{"modality": "TEXT",
                                             "tokenCount": reply.prompt_tokens}]},
                "modelVersion": model, "responseId": f"fake-{next(self._ids)}"})

        @app.post("/upload/v1beta/files")
        async def upload(request: Request) -> Response:
            command = request.headers.get("x-goog-upload-command", "")
            if command == "start":
                if request.headers.get("x-goog-upload-protocol") != "resumable":
                    return _error(400, "Upload protocol must be resumable")
                upload_id = f"u{next(self._ids)}"
                self._uploads[upload_id] = {
                    "size": int(request.headers["x-goog-upload-header-content-length"]),
                    "mime": request.headers["x-goog-upload-header-content-type"],
                    "data": bytearray()}
                url = f"{self.url}/upload/v1beta/files?upload_id={upload_id}" \
                      "&upload_protocol=resumable"
                return JSONResponse({}, headers={"X-Goog-Upload-URL": url,
                                                 "X-Goog-Upload-Status": "active"})
            pending = self._uploads.get(request.query_params.get("upload_id", ""))
            if pending is None or not command.startswith("upload"):
                return _error(400, f"bad resumable upload command {command!r}")
            if int(request.headers.get("x-goog-upload-offset", -1)) != len(pending["data"]):
                return _error(400, "X-Goog-Upload-Offset does not match the bytes received")
            pending["data"] += await request.body()
            if "finalize" not in command:
                return JSONResponse({}, headers={"X-Goog-Upload-Status": "active"})
            file_id = f"f{next(self._ids)}"
            self.files[file_id] = {
                "name": f"files/{file_id}", "mimeType": pending["mime"],
                "sizeBytes": str(len(pending["data"])), "uri": f"{self.url}/v1beta/files/{file_id}",
                "state": "PROCESSING" if self.processing_polls else "ACTIVE",
                "source": "UPLOADED", "data": base64.b64encode(pending["data"]).decode()}
            self._polls[file_id] = self.processing_polls
            return JSONResponse({"file": _public(self.files[file_id])},
                                headers={"X-Goog-Upload-Status": "final"})

        @app.get("/v1beta/files/{file_id}")
        async def get_file(file_id: str) -> Response:
            if file_id not in self.files:
                return _error(404, f"File files/{file_id} not found")
            self._polls[file_id] -= 1
            if self._polls[file_id] <= 0:
                self.files[file_id]["state"] = "ACTIVE"
            return JSONResponse(_public(self.files[file_id]))

        @app.delete("/v1beta/files/{file_id}")
        async def delete_file(file_id: str) -> Response:
            if self.files.pop(file_id, None) is None:
                return _error(404, f"File files/{file_id} not found")
            return JSONResponse({})

        return app


def _public(file: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in file.items() if k != "data"}
