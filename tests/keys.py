"""API keys for tests: the hub refuses anonymous callers, so a test signs its client in with a
real key of the role it needs, made in the same database the hub reads."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from audiohub.access.service import AccessService
from audiohub.config import RoleName, Settings
from audiohub.persistence.db import Database, migrate


def new_key(access: AccessService, role: RoleName = "admin") -> str:
    return access.create_key(f"test-{role}-{uuid.uuid4().hex[:8]}", role, "tests").key


def authorize(client: TestClient, role: RoleName = "admin") -> TestClient:
    """Sign a started TestClient (inside its `with`) in with a fresh key of `role`."""
    access: AccessService = client.app.state.access  # type: ignore[attr-defined]
    client.headers["Authorization"] = f"Bearer {new_key(access, role)}"
    return client


def key_for(settings: Settings, role: RoleName = "admin") -> str:
    """A key in the database `settings` name, for a hub run as its own process."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
        return new_key(AccessService(db, settings.auth, settings.data_dir), role)
    finally:
        db.engine.dispose()
