"""What the jobs tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request

from tests.processes import serve_in_thread


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A real HTTP server on loopback that keeps every webhook it gets."""
    got: list[tuple[dict[str, str], bytes]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        got.append((dict(request.headers), await request.body()))
        return {"ok": True}

    with serve_in_thread(app) as url:
        yield f"{url}/hook", got
