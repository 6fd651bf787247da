"""What the access tests share: a hub per module on SQLite and on PostgreSQL, keys of each
kind (live, revoked, expired) and a stored call to read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from audiohub.access.models import ApiKeyRow
from audiohub.access.service import AccessService
from audiohub.config import RoleName
from tests.conftest import AUDIO, pg_database


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_database_url(request: pytest.FixtureRequest, pg_server: str) -> Iterator[str | None]:
    """Like tests/conftest.py's `database_url`, for one hub shared by a whole module: SQLite
    (None: the data dir's file), then PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    with pg_database(pg_server) as url:
        yield url


def access_of(client: TestClient) -> AccessService:
    access: AccessService = client.app.state.access  # type: ignore[attr-defined]
    return access


def make_key(access: AccessService, role: RoleName, **kw: Any) -> tuple[str, str]:
    """A new key of `role`: (its name, the key itself)."""
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    return name, access.create_key(name, role, "tests", **kw).key


def expire_key(access: AccessService, name: str) -> None:
    """Move a key's expiry into the past, as time would."""
    with access.db.session() as session:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.name == name)
                        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))


def expired_key(access: AccessService, role: RoleName = "admin") -> str:
    name, key = make_key(access, role, expires_days=0.001)
    expire_key(access, name)
    return key


def revoked_key(access: AccessService, role: RoleName = "admin") -> str:
    name, key = make_key(access, role)
    access.revoke_key(name, "tests")
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def upload(client: TestClient, path: str, name: str, key: str, **kw: Any) -> Any:
    """POST one fixture recording to `path` (/api/transcribe/ or /api/jobs) with `key`."""
    with (AUDIO / name).open("rb") as f:
        headers = {**bearer(key), **kw.pop("headers", {})}
        return client.post(path, files={"file": (name, f)}, headers=headers, **kw)


def data_dir_of(client: TestClient) -> Path:
    path: Path = client.app.state.settings.data_dir  # type: ignore[attr-defined]
    return path
