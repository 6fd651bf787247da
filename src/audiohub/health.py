"""Liveness and readiness, shared by the gateway and the four stage services.

`/health/live` says only that the process answers: no checks, so a restart (what a failing
liveness probe causes) is never ordered for a database or a stage that a restart cannot fix.
`/health/ready` says whether this instance can do its work now: every part it cannot work
without is probed at once, and a 503 names the parts that are not ready, so a load balancer or
Kubernetes sends traffic elsewhere until they are back. `/health` keeps the seed's shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from anyio import to_thread
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

Probe = Callable[[], Awaitable[str]]
# Under the probes' timeoutSeconds (5 in deploy/k8s): a part that hangs is reported not ready,
# instead of the whole answer coming too late to say which part it was.
PROBE_TIMEOUT = 4.0
# Seconds to reach the job queue's broker.
BROKER_TIMEOUT = 3.0


class Live(BaseModel):
    status: Literal["alive"] = "alive"


class PartCheck(BaseModel):
    ready: bool
    detail: str = Field(description="What was checked, or what failed (hosts, versions, errors).")


class Readiness(BaseModel):
    """Whether this instance can serve now. `not_ready` names the parts that cannot (e.g.
    "database", "broker", "persistence", "models"); `checks` (with health:detail on the gateway,
    or the SERVICE_TOKEN on a stage service) says what each check found."""

    status: Literal["ready", "not_ready"]
    not_ready: list[str]
    service: str | None = None
    checks: dict[str, PartCheck] | None = None


class ComponentHealth(BaseModel):
    status: Literal["healthy", "unhealthy"]
    detail: str


class Health(BaseModel):
    """The seed's /health: "healthy" (200) when every component answers, else "degraded"
    (503). `services` (each component's status and detail) only with health:detail."""

    status: Literal["healthy", "degraded"]
    services: dict[str, ComponentHealth] | None = None


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Health, "description": "Every component answers."},
    503: {"model": Health, "description": 'A component does not answer: "degraded".'},
}
LIVE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"model": Live}}
READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Readiness, "description": "Every required part is ready."},
    503: {"model": Readiness, "description": "A required part is not ready; see `not_ready`."},
}


def in_thread(check: Callable[[], str]) -> Probe:
    """A blocking check (a database ping) as a probe that leaves the event loop free; one that
    hangs past the probe's timeout is abandoned, not waited for."""

    async def probe() -> str:
        return await to_thread.run_sync(check, abandon_on_cancel=True)

    return probe


async def check_parts(probes: Mapping[str, Probe],
                      timeout: float = PROBE_TIMEOUT) -> dict[str, PartCheck]:
    """Every probe at once (a hung part costs one timeout, not one per part)."""

    async def one(probe: Probe) -> PartCheck:
        try:
            return PartCheck(ready=True, detail=await asyncio.wait_for(probe(), timeout))
        except TimeoutError:
            return PartCheck(ready=False, detail=f"no answer within {timeout:g} s")
        except Exception as exc:  # a probe reports whatever broke; it must not crash
            return PartCheck(ready=False, detail=f"{type(exc).__name__}: {exc}")

    results = await asyncio.gather(*(one(p) for p in probes.values()))
    return dict(zip(probes, results, strict=True))


def readiness(checks: Mapping[str, PartCheck], *, detail: bool,
              service: str | None = None) -> JSONResponse:
    """200 or 503 with the names of the parts that are not ready; what each check found only
    when `detail` (hosts, versions and error texts are for operators, not for anyone)."""
    down = [name for name, c in checks.items() if not c.ready]
    body = Readiness(status="not_ready" if down else "ready", not_ready=down, service=service,
                     checks=dict(checks) if detail else None)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503 if down else 200)


def broker_ping(url: str, timeout: float = BROKER_TIMEOUT) -> str:
    """Connect to the Celery broker (Redis or RabbitMQ) once; raises if it does not answer.

    Returns:
        The broker's address with any password masked (kombu's `as_uri`).
    """
    from kombu import Connection

    with Connection(url, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0)
        return f"{conn.as_uri()} answers"
