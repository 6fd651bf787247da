"""The gateway's `HttpPrompts` against a real prompt service process on loopback (on PostgreSQL),
through a recording proxy that can answer 503 or hold an answer past the client's timeout: reads
and saves work, reads are retried, a save reaches the service exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request, Response

from audiohub.config import ServiceSettings
from audiohub.errors import NotFoundError, StageError, StageUnavailableError
from audiohub.gateway.remote import HttpPool, HttpPrompts, ServiceClient
from audiohub.prompts.client import HttpPromptStore
from audiohub.prompts.schemas import PromptEdit
from tests.conftest import pg_database
from tests.processes import Server, free_port, serve_in_thread

TOKEN = "prompt-token"
EDIT = PromptEdit.model_validate({
    "description": "A card is blocked.", "prompt": "Extract the card details.",
    "fields": [{"name": "customer_name", "description": "who called"}],
    "examples": ["please block my card"]})
T = TypeVar("T")


@dataclass
class Proxy:
    """Forwards to the prompt service, recording each request; `script` says what the next
    requests get instead ("503": refused without forwarding, "slow": forwarded, then the
    answer is held past the client's timeout)."""

    url: str = ""
    script: list[str] = field(default_factory=list)
    seen: list[tuple[str, str, bool]] = field(default_factory=list)  # method, path, forwarded

    def posts(self) -> list[str]:
        return [path for method, path, sent in self.seen if method == "POST" and sent]


@pytest.fixture(scope="module")
def service(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prompt-service")
    with pg_database(pg_server) as database_url:
        server = Server("prompt", free_port(), {
            "DATABASE_URL": database_url, "SERVICE_TOKEN": TOKEN,
            "AUDIOHUB_DATA_DIR": str(root)}, root / "prompt.log")
        try:
            yield server.start().url
        finally:
            server.stop()


@pytest.fixture(scope="module")
def _proxy(service: str) -> Iterator[Proxy]:
    proxy = Proxy()
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def forward(request: Request, path: str) -> Response:
        action = proxy.script.pop(0) if proxy.script else "pass"
        proxy.seen.append((request.method, "/" + path, action != "503"))
        if action == "503":
            return Response('{"error": "busy", "detail": "scripted"}', 503)
        async with httpx.AsyncClient(base_url=service) as client:
            answer = await client.request(
                request.method, "/" + path, content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"})
        if action == "slow":
            await asyncio.sleep(3)
        return Response(answer.content, answer.status_code,
                        media_type=answer.headers.get("content-type"))

    with serve_in_thread(app) as url:
        proxy.url = url
        yield proxy


@pytest.fixture
def proxy(_proxy: Proxy) -> Proxy:
    _proxy.script, _proxy.seen = [], []
    return _proxy


def run(proxy: Proxy, call: Callable[[HttpPrompts], Awaitable[T]]) -> T:
    """`call` on an HttpPrompts as the gateway builds it (1 s timeout, quick backoff)."""
    async def go() -> T:
        pool = HttpPool(timeout=1)
        settings = ServiceSettings(SERVICE_TOKEN=TOKEN, SERVICE_BACKOFF_SECONDS=0.05)
        try:
            return await call(HttpPrompts(ServiceClient("prompt", proxy.url, pool, settings)))
        finally:
            await pool.aclose()
    return anyio.run(go)


def test_all_history_and_save_through_the_service(proxy: Proxy) -> None:
    every = run(proxy, lambda p: p.all())
    assert len(every) == 15
    before = run(proxy, lambda p: p.history("banking", "card_block"))
    saved = run(proxy, lambda p: p.save("banking", "card_block", EDIT))
    assert (saved.version, saved.source, saved.prompt) == (
        before[0].version + 1, "edited", EDIT.prompt)
    assert proxy.posts() == ["/prompts/banking/card_block"]  # sent once

    history = run(proxy, lambda p: p.history("banking", "card_block"))
    assert history[0] == saved and history[1:] == before
    latest = {(s.domain, s.category): s for s in run(proxy, lambda p: p.all())}
    assert latest[("banking", "card_block")] == saved
    # The pipeline's own read of the pair gets the new version too.
    assert run(proxy, lambda p: p.validate_and_generate("banking", "card_block")) == saved

    approved = run(proxy, lambda p: p.save("banking", "card_block", PromptEdit.of(saved)))
    assert (approved.version, approved.source) == (saved.version + 1, "approved")


def test_unknown_pairs(proxy: Proxy) -> None:
    assert run(proxy, lambda p: p.history("aviation", "lost_luggage")) == []
    with pytest.raises(NotFoundError, match="aviation/lost_luggage"):
        run(proxy, lambda p: p.save("aviation", "lost_luggage", EDIT))
    # A name no pair can have is answered without asking the service.
    assert run(proxy, lambda p: p.history("bank ing", "x/y")) == []
    with pytest.raises(NotFoundError):
        run(proxy, lambda p: p.save("bank ing", "x/y", EDIT))
    assert [path for _, path, _ in proxy.seen] == ["/prompts/aviation/lost_luggage/versions",
                                                   "/prompts/aviation/lost_luggage"]
    assert run(proxy, lambda p: p.history("aviation", "lost_luggage")) == []


def test_an_invalid_edit_is_refused_by_the_service(proxy: Proxy) -> None:
    # Built without validation, as a buggy caller might: the service still refuses it.
    bad = PromptEdit.model_construct(**{**EDIT.model_dump(), "fields": []})
    before = run(proxy, lambda p: p.history("banking", "fraud_report"))
    with pytest.raises(StageError) as caught:
        run(proxy, lambda p: p.save("banking", "fraud_report", bad))
    assert caught.value.status_code == 422 and "body.fields" in caught.value.detail
    assert run(proxy, lambda p: p.history("banking", "fraud_report")) == before


def test_reads_are_retried(proxy: Proxy) -> None:
    proxy.script = ["503", "503"]
    assert len(run(proxy, lambda p: p.history("banking", "card_block"))) >= 1
    proxy.script = ["slow"]
    assert len(run(proxy, lambda p: p.all())) == 15
    assert [(m, sent) for m, _, sent in proxy.seen] == [("GET", False), ("GET", False),
                                                       ("GET", True), ("GET", True),
                                                       ("GET", True)]


def test_a_save_whose_answer_is_lost_is_not_sent_again(proxy: Proxy) -> None:
    before = run(proxy, lambda p: p.history("insurance", "claim_filing"))
    proxy.script = ["slow"]
    with pytest.raises(StageUnavailableError, match="may or may not"):
        run(proxy, lambda p: p.save("insurance", "claim_filing", EDIT))
    assert proxy.posts() == ["/prompts/insurance/claim_filing"]
    after = run(proxy, lambda p: p.history("insurance", "claim_filing"))
    assert [s.version for s in after] == [before[0].version + 1, *[s.version for s in before]]


def test_a_save_the_service_refused_with_503_is_sent_again(proxy: Proxy) -> None:
    """503 means the service did not act on it: the one case a save is retried."""
    before = run(proxy, lambda p: p.history("travel", "booking_change"))
    proxy.script = ["503"]
    saved = run(proxy, lambda p: p.save("travel", "booking_change", EDIT))
    assert proxy.posts() == ["/prompts/travel/booking_change"]
    assert [m for m, _, _ in proxy.seen if m == "POST"] == ["POST", "POST"]
    assert run(proxy, lambda p: p.history("travel", "booking_change")) == [saved, *before]


def test_the_transcription_services_reader_sees_the_versions(service: str) -> None:
    reader = HttpPromptStore(service, ServiceSettings(SERVICE_TOKEN=TOKEN), timeout=5)
    try:
        history = reader.history("banking", "card_block")
        assert history and history[0] == reader.get("banking", "card_block")
        assert reader.history("banking", "mortgage") == []
    finally:
        reader.close()


def test_a_categorys_keyterms_cross_the_prompt_service(proxy: Proxy, service: str) -> None:
    edit = EDIT.model_copy(update={"keyterms": ["Allstate", "deductible"]})
    saved = run(proxy, lambda p: p.save("insurance", "claim_filing", edit))
    assert saved.keyterms == ["Allstate", "deductible"]
    assert run(proxy, lambda p: p.history("insurance", "claim_filing"))[0].keyterms == [
        "Allstate", "deductible"]
    # What the transcription service reads to classify, and then to correct with.
    reader = HttpPromptStore(service, ServiceSettings(SERVICE_TOKEN=TOKEN), timeout=5)
    try:
        assert reader.get("insurance", "claim_filing").keyterms == [  # type: ignore[union-attr]
            "Allstate", "deductible"]
        refill = reader.get("healthcare", "prescription_refill")
        assert refill is not None and "Metformin" in refill.keyterms
    finally:
        reader.close()
    refused = httpx.post(f"{service}/prompts/insurance/claim_filing", headers={
        "X-Service-Token": TOKEN}, json={**edit.model_dump(), "keyterms": ["x" * 51]})
    assert refused.status_code == 422 and "longer than 50" in refused.text
