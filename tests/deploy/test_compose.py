"""docker-compose.yml and .env.example run the five services the way the hub expects."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import yaml

from tests.deploy.deployfiles import (
    NEEDS_DATABASE,
    NETWORK,
    ROOT,
    SERVICES,
    STAGE_SERVICES,
    WORKERS,
    Svc,
    assert_hub_reads,
    other_port_vars,
    per_service,
)


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def compose_service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose()["services"][name]
    return service


def compose_env(name: str) -> dict[str, Any]:
    env: dict[str, Any] = compose_service(name).get("environment", {})
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return env


def test_compose_names_every_service() -> None:
    assert set(compose()["services"]) == {"postgres", "redis", *(w.name for w in WORKERS),
                                          *(s.name for s in SERVICES)}


@per_service
def test_compose_command_runs_the_stage_on_its_port(svc: Svc) -> None:
    service = compose_service(svc.name)
    assert service["command"] == ["audiohub", "serve", svc.stage]
    env = compose_env(svc.name)
    assert str(env[svc.port_var]) == str(svc.port)
    assert not other_port_vars(svc) & set(env)
    assert env["AUDIOHUB_HOST"] == "0.0.0.0"


@per_service
def test_compose_healthcheck_probes_readiness_every_10s(svc: Svc) -> None:
    """Readiness, not liveness: `depends_on: service_healthy` must wait until the service can
    work (its database, models, broker, stages), not only until its process answers."""
    check = compose_service(svc.name)["healthcheck"]
    assert check["interval"] == "10s"
    # The slim image has no curl: python's urllib, against this service's own port.
    assert check["test"][:3] == ["CMD", "python", "-c"]
    assert f"'http://127.0.0.1:{svc.port}/health/ready'" in check["test"][3]


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health/ready" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@per_service
def test_compose_healthcheck_command_fails_unless_ready_answers_200(
    svc: Svc, health_server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = compose_service(svc.name)["healthcheck"]["test"][3]
    port = health_server.server_address[1]
    code = code.replace(f"http://127.0.0.1:{svc.port}/", f"http://127.0.0.1:{port}/")

    def run() -> int:
        return subprocess.run([sys.executable, "-c", code], capture_output=True,
                              timeout=30).returncode

    assert run() == 0
    monkeypatch.setattr(_Health, "status", 503)
    assert run() != 0
    health_server.shutdown()
    health_server.server_close()
    assert run() != 0


def test_compose_puts_every_service_on_the_hub_network() -> None:
    assert compose()["networks"][NETWORK]["name"] == NETWORK
    for name, service in compose()["services"].items():
        assert NETWORK in service["networks"], name


def test_compose_publishes_only_the_gateway() -> None:
    published = {name for name, s in compose()["services"].items() if s.get("ports")}
    assert published == {"api-gateway"}
    (port,) = compose_service("api-gateway")["ports"]
    assert port["target"] == 8000
    assert port["host_ip"] == "127.0.0.1"


# Variables that hold a secret: never in a service's `environment:` (docker inspect shows it).
SECRET_VARS = {"SERVICE_TOKEN", "GEMINI_API_KEY", "OPENAI_API_KEY", "SUPABASE_SERVICE_KEY",
               "WEBHOOK_SECRET"}


@per_service
def test_compose_gives_service_token_as_a_secret(svc: Svc) -> None:
    assert compose_service(svc.name)["secrets"] == ["SERVICE_TOKEN"]
    assert not SECRET_VARS & set(compose_env(svc.name))
    # Made from SERVICE_TOKEN in .env; the image's entrypoint turns /run/secrets/SERVICE_TOKEN
    # back into the variable (tests/deploy/test_dockerfile.py runs it).
    assert compose()["secrets"]["SERVICE_TOKEN"] == {"environment": "SERVICE_TOKEN"}


def test_compose_requires_service_token() -> None:
    # ${VAR:?message} makes `docker compose` refuse to start when VAR is unset or empty.
    assert re.fullmatch(r"\$\{SERVICE_TOKEN:\?[^}]+\}", compose()["x-required"])


def test_no_compose_service_holds_a_secret_in_its_environment() -> None:
    for name in compose()["services"]:
        assert not SECRET_VARS & set(compose_service(name).get("environment", {})), name
    # The workers call no stage service: they are not given the token at all.
    for wk in WORKERS:
        assert "secrets" not in compose_service(wk.name), wk.name


@per_service
def test_compose_turns_sign_in_on(svc: Svc) -> None:
    # Explicitly, not by the default: every service binds 0.0.0.0 in its container.
    assert compose_env(svc.name)["AUTH"] == "on"


def test_compose_gateway_answers_only_to_named_hosts() -> None:
    value = compose_env("api-gateway")["ALLOWED_HOSTS"]
    found = re.fullmatch(r"\$\{ALLOWED_HOSTS:-([^}]*)\}", value)
    default = found.group(1) if found else value
    hosts = [h.strip() for h in default.split(",")]
    assert hosts == ["localhost", "127.0.0.1"]
    assert "*" not in default


def test_compose_starts_in_the_seeds_order_once_each_dependency_is_healthy() -> None:
    expected = {
        "prompt-service": {"postgres"},
        "transcription-service": {"prompt-service"},
        "extraction-service": {"prompt-service"},
        "persistence-service": {"postgres", "prompt-service"},
        # Redis: jobs accepted by the gateway are queued there for the workers.
        "api-gateway": {s.name for s in STAGE_SERVICES} | {"redis"},
    }
    for name, deps in expected.items():
        depends_on = compose_service(name)["depends_on"]
        assert set(depends_on) == deps, name
        assert {d["condition"] for d in depends_on.values()} == {"service_healthy"}, name
    postgres = compose_service("postgres")
    assert "depends_on" not in postgres
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["healthcheck"]["interval"] == "10s"


def test_compose_gives_database_url_only_to_the_services_that_store() -> None:
    have = {s.name for s in SERVICES if "DATABASE_URL" in compose_env(s.name)}
    assert have == NEEDS_DATABASE
    pg_env = compose_service("postgres")["environment"]
    for name in NEEDS_DATABASE:
        url = compose_env(name)["DATABASE_URL"]
        assert url.startswith(f"postgresql://{pg_env['POSTGRES_USER']}:")
        assert url.endswith(f"@postgres:5432/{pg_env['POSTGRES_DB']}")


def test_compose_service_urls_name_the_services_and_their_ports() -> None:
    gateway = compose_env("api-gateway")
    for svc in STAGE_SERVICES:
        assert gateway[svc.url_var] == svc.url
    transcription = compose_env("transcription-service")
    assert transcription["PROMPT_SERVICE_URL"] == "http://prompt-service:8002"
    # Stage services other than transcription call nobody.
    for name in ("prompt-service", "extraction-service", "persistence-service"):
        assert not {k for k in compose_env(name) if k.endswith("_SERVICE_URL")}, name


def test_compose_keeps_recordings_and_database_on_volumes() -> None:
    assert {"pgdata", "recordings"} <= set(compose()["volumes"])
    assert "recordings:/data" in compose_service("persistence-service")["volumes"]
    assert compose_env("persistence-service")["AUDIOHUB_DATA_DIR"] == "/data"
    assert "pgdata:/var/lib/postgresql/data" in compose_service("postgres")["volumes"]


def test_compose_builds_one_image_for_every_service() -> None:
    builds = [compose_service(s.name)["build"] for s in SERVICES]
    images = {compose_service(s.name)["image"] for s in SERVICES}
    assert len(images) == 1
    assert all(b == builds[0] and b["context"] == "." for b in builds)
    # The model baked in at build time is the one transcription-service loads.
    assert builds[0]["args"]["WHISPER_MODEL"] == compose_env("transcription-service")[
        "WHISPER_MODEL"]


@per_service
def test_compose_sets_only_variables_the_hub_reads(svc: Svc) -> None:
    assert_hub_reads(compose_env(svc.name), f"docker-compose.yml {svc.name}")


def test_env_example_lists_exactly_the_variables_compose_substitutes() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert {"SERVICE_TOKEN", "POSTGRES_PASSWORD"} <= used
    assert used <= listed
    # .env only feeds ${...} substitution: a variable compose never substitutes has no effect.
    assert listed <= used
    # Secrets are blank in the example, never a usable default.
    assert re.search(r"^SERVICE_TOKEN=$", example, flags=re.MULTILINE)
    assert re.search(r"^POSTGRES_PASSWORD=$", example, flags=re.MULTILINE)
    # Postgres' own password aside, every variable it sets (or shows, commented) the hub reads.
    shown = set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", example))
    assert_hub_reads(shown - {"POSTGRES_PASSWORD"}, ".env.example")
