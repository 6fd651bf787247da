"""Health that tells the truth: /health/live (the process answers), /health/ready (503 naming the
part that is down: the database, the broker, a stage service, models not loaded) and /health
(the seed's shape, 503 when "degraded"), on the gateway and on the stage services, with real
parts only: PostgreSQL dropped under a running hub, Redis and RabbitMQ on this machine, and a
persistence service process stopped behind a gateway process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from audiohub.config import CelerySettings, RoleName
from audiohub.gateway.app import create_app
from audiohub.services import create_service_app
from tests.conftest import make_settings
from tests.keys import authorize, key_for
from tests.processes import Server, free_port

TOKEN = "health-test-token"


def test_live_ready_and_health_answer_200_when_every_part_is_up(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "data"))) as client:
        live = client.get("/health/live")
        assert (live.status_code, live.json()) == (200, {"status": "alive"})
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready", "not_ready": []})
        health = client.get("/health")
        assert (health.status_code, health.json()) == (200, {"status": "healthy"})
        # health:detail (admin, analyst) sees what each check found.
        authorize(client, "analyst")
        checks = client.get("/health/ready").json()["checks"]
        assert checks == {"database": {"ready": True, "detail": "sqlite ok"}}


def test_a_database_dropped_under_the_hub_makes_ready_and_health_503(
    tmp_path: Path, pg_url: str, pg_server: str
) -> None:
    """PostgreSQL is really gone (the database dropped, its connections ended): readiness and
    /health say so, anonymous callers learn only the part's name, liveness stays 200."""
    app = create_app(make_settings(tmp_path / "data", pg_url))
    with TestClient(app) as client:
        key = f"Bearer {_key(client, 'admin')}"  # made while the database is there
        assert client.get("/health/ready").status_code == 200
        name = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "not_ready", "not_ready": ["database"]}
        assert name not in ready.text and "5432" not in ready.text
        health = client.get("/health")
        assert (health.status_code, health.json()) == (503, {"status": "degraded"})
        assert client.get("/health/live").status_code == 200
        # The key lived in the dropped database: it cannot be checked, so the caller is told
        # only what anyone is, never a 500.
        keyed = client.get("/health/ready", headers={"Authorization": key})
        assert (keyed.status_code, keyed.json()) == (503, ready.json())
        assert client.get("/health", headers={"Authorization": key}).status_code == 503
        # Any other route: the key cannot be checked, which is the database's fault (503 saying
        # so), not the hub's (500) and not the caller's (401).
        calls = client.get("/api/calls", headers={"Authorization": key})
        assert (calls.status_code, calls.json()["error"]) == (503, "backend_unavailable")
        assert name not in calls.text and "5432" not in calls.text


@pytest.mark.parametrize(("url", "up"), [
    ("redis://127.0.0.1:6379/0", True),
    ("amqp://guest:guest@127.0.0.1:5672//", True),
    ("redis://127.0.0.1:{closed}/0", False),
    ("amqp://guest:guest@127.0.0.1:{closed}//", False),
])
def test_the_broker_is_a_required_part_when_celery_broker_url_is_set(
    tmp_path: Path, url: str, up: bool
) -> None:
    closed = free_port()  # nothing listens there
    broker = url.format(closed=closed)
    settings = make_settings(tmp_path / "data", celery=CelerySettings(broker_url=broker))
    with TestClient(create_app(settings)) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == (200 if up else 503), ready.text
        assert ready.json()["not_ready"] == ([] if up else ["broker"])
        assert str(closed) not in ready.text and "guest" not in ready.text
        authorize(client, "admin")
        found = client.get("/health/ready").json()["checks"]["broker"]
        assert found["ready"] is up
        if not up:
            assert "refused" in found["detail"].lower(), found
        assert "guest:guest" not in found["detail"]  # a password is never shown


def _key(client: TestClient, role: RoleName) -> str:
    authorize(client, role)
    header: str = client.headers.pop("Authorization")
    return header.removeprefix("Bearer ")


# --- a gateway process in front of a persistence service process -----------------------------

@dataclass
class Pair:
    gateway: Server
    persistence: Server
    gateway_dir: Path

    def auth(self, role: RoleName) -> dict[str, str]:
        return {"Authorization": f"Bearer {key_for(make_settings(self.gateway_dir), role)}"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("ready")
    ports = {"persistence": free_port(), "gateway": free_port()}
    persistence = Server("persistence", ports["persistence"], {
        "AUDIOHUB_DATA_DIR": str(root / "persistence"), "SERVICE_TOKEN": TOKEN},
        root / "persistence.log")
    gateway = Server("gateway", ports["gateway"], {
        "AUDIOHUB_DATA_DIR": str(root / "gateway"), "SERVICE_TOKEN": TOKEN,
        "PERSISTENCE_SERVICE_URL": persistence.url}, root / "gateway.log")
    for server in (persistence, gateway):
        server.env.pop("DATABASE_URL", None)  # each on its own data dir's SQLite file
    try:
        persistence.start()
        gateway.start()
        yield Pair(gateway, persistence, root / "gateway")
    finally:
        gateway.stop()
        persistence.stop()


def test_a_stopped_persistence_service_makes_the_gateway_not_ready(pair: Pair) -> None:
    g = pair.gateway.url
    assert httpx.get(f"{g}/health/ready").json() == {"status": "ready", "not_ready": []}
    analyst, viewer = pair.auth("analyst"), pair.auth("viewer")
    found = httpx.get(f"{g}/health/ready", headers=analyst).json()["checks"]
    assert set(found) == {"database", "persistence"}  # transcription etc. run in the gateway
    assert pair.persistence.url in found["persistence"]["detail"]

    pair.persistence.stop()
    try:
        started = time.monotonic()
        ready = httpx.get(f"{g}/health/ready", timeout=10)
        print(f"\nreadiness answer with persistence down: {time.monotonic() - started:.2f} s")
        assert ready.status_code == 503
        # Anyone learns which part; nothing of where it runs or how it failed.
        assert ready.json() == {"status": "not_ready", "not_ready": ["persistence"]}
        port = str(pair.persistence.port)
        assert port not in ready.text and "Error" not in ready.text
        # A viewer has no health:detail: the same short answer.
        assert httpx.get(f"{g}/health/ready", headers=viewer).json() == ready.json()
        detailed = httpx.get(f"{g}/health/ready", headers=analyst).json()["checks"]
        assert detailed["database"]["ready"] is True
        assert detailed["persistence"]["ready"] is False
        assert "ConnectError" in detailed["persistence"]["detail"]
        health = httpx.get(f"{g}/health")
        assert (health.status_code, health.json()) == (503, {"status": "degraded"})
        services = httpx.get(f"{g}/health", headers=analyst).json()["services"]
        assert services["persistence"]["status"] == "unhealthy"
        # Liveness checks nothing: the gateway process is fine, a restart would not help.
        live = httpx.get(f"{g}/health/live")
        assert (live.status_code, live.json()) == (200, {"status": "alive"})
    finally:
        pair.persistence.start()
    assert httpx.get(f"{g}/health/ready").status_code == 200
    assert httpx.get(f"{g}/health").json() == {"status": "healthy"}


def test_the_persistence_service_s_own_live_and_ready(pair: Pair) -> None:
    """No token needed (probes call them); what was checked only with the SERVICE_TOKEN."""
    s = pair.persistence.url
    assert httpx.get(f"{s}/health/live").json() == {"status": "alive"}
    ready = httpx.get(f"{s}/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "not_ready": [], "service": "persistence"}
    wrong = httpx.get(f"{s}/health/ready", headers={"X-Service-Token": "guess"}).json()
    assert "checks" not in wrong
    detailed = httpx.get(f"{s}/health/ready", headers={"X-Service-Token": TOKEN}).json()
    assert detailed["checks"] == {"database": {"ready": True, "detail": "sqlite ok"}}


# --- stage services in this process ------------------------------------------------------------

def test_a_stage_service_is_not_ready_until_started_then_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before its start (database opened, models loaded) a stage answers live but not ready;
    after it, ready. TestClient without `with` does not run the app's start."""
    monkeypatch.setenv("SERVICE_TOKEN", TOKEN)
    settings = make_settings(tmp_path / "data")
    for stage, part in (("transcription", "models"), ("extraction", "models"),
                        ("prompt", "database"), ("persistence", "database")):
        unstarted = TestClient(create_service_app(settings, stage))
        assert unstarted.get("/health/live").json() == {"status": "alive"}, stage
        ready = unstarted.get("/health/ready")
        assert ready.status_code == 503, stage
        assert ready.json() == {"status": "not_ready", "not_ready": [part], "service": stage}

    for stage, part in (("prompt", "database"), ("extraction", "models")):
        with TestClient(create_service_app(settings, stage)) as client:
            assert client.get("/health/ready").status_code == 200, stage
            found = client.get("/health/ready", headers={"X-Service-Token": TOKEN}).json()
            assert list(found["checks"]) == [part] and found["checks"][part]["ready"], found


def test_a_stage_service_on_a_dropped_database_is_not_ready(
    tmp_path: Path, pg_url: str, pg_server: str
) -> None:
    with TestClient(create_service_app(make_settings(tmp_path / "data", pg_url),
                                       "prompt")) as client:
        assert client.get("/health/ready").status_code == 200
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{pg_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["not_ready"] == ["database"]
        # No SERVICE_TOKEN is set: anyone who reaches a stage may read what failed.
        assert ready.json()["checks"]["database"]["detail"].startswith("OperationalError")
        assert client.get("/health").status_code == 503  # the seed's /health agrees
        assert client.get("/health/live").status_code == 200
