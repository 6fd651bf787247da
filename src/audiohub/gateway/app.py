"""`create_app(settings)`: the gateway's FastAPI application. Each stage runs in this process
unless its `*_SERVICE_URL` is set; `audiohub serve all` is the gateway with none set."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import FastAPI, Request

from audiohub.access.endpoints import router as access_router
from audiohub.access.headers import install_security_headers
from audiohub.access.ratelimit import RateLimits
from audiohub.access.service import AccessService, load_secret
from audiohub.api import new_app, respond
from audiohub.config import Settings
from audiohub.gateway.endpoints import router
from audiohub.gateway.hub import build_hub
from audiohub.gateway.prompts import router as prompts_router
from audiohub.jobs.celery_backend import CeleryQueue
from audiohub.jobs.endpoints import router as jobs_router
from audiohub.jobs.inprocess import InProcessQueue
from audiohub.jobs.recovery import Sweeper
from audiohub.jobs.service import JobService, jobs_available
from audiohub.persistence.retention import DailyPurge, expire_failed_jobs, policy_set
from audiohub.web.docs import install_docs
from audiohub.web.endpoints import install_ui

log = logging.getLogger("audiohub")
HEALTH_PATHS = frozenset({"/health", "/health/live", "/health/ready"})


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether a Host header (port and IPv6 brackets allowed) is one of `allowed`."""
    name = (urlsplit(f"//{host}").hostname or "") if host else ""
    return any(a == "*" or a == name or (a.startswith("*.") and name.endswith(a[1:]))
               for a in allowed)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Settings are read here (or passed by tests), never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = await to_thread.run_sync(build_hub, settings)
        queue: InProcessQueue | CeleryQueue | None = None
        retention: DailyPurge | None = None
        sweeper: Sweeper | None = None
        jobs: JobService | None = None
        try:
            # Accounts, keys and the audit trail live in this process's database: DATABASE_URL
            # (shared by every gateway that uses it) or the data dir's SQLite file.
            access = AccessService(hub.parts.db, settings.auth, settings.data_dir)
            app.state.access = access
            app.state.csrf_secret = load_secret(settings.data_dir / "csrf-secret")
            if settings.auth.enabled and (token := await to_thread.run_sync(access.setup_token)):
                log.warning("No admin yet. Make the first one at http://%s:%s/ui/setup?token=%s "
                            "(the link works once), or run `audiohub users create --role admin`",
                            settings.host, settings.port, token)
            await to_thread.run_sync(hub.load_models)
            app.state.hub = hub
            if jobs_available(hub):
                if settings.celery.broker_url:
                    queue = CeleryQueue(settings.celery)  # `audiohub worker` processes run them
                else:
                    queue = InProcessQueue(settings.jobs.workers)
                jobs = JobService(hub, queue)
                app.state.jobs = jobs
                if isinstance(queue, InProcessQueue):
                    # Jobs a stop or crash left unfinished are queued again before new ones.
                    # With Celery the broker keeps them, and redelivers a killed worker's job
                    # after CELERY_VISIBILITY_TIMEOUT; re-queueing here would run them twice.
                    await to_thread.run_sync(jobs.recover)
                else:
                    # Webhooks a killed worker was still sending: this process sends them.
                    await to_thread.run_sync(jobs.deliveries.recover)
                queue.start(jobs.process)
                # Requeues dead workers' jobs and due retries, and expires failed jobs'
                # recordings (this process spools them), for either queue.
                sweeper = Sweeper(hub.parts.db, queue, settings.jobs, expire_failed_jobs).start()
            if policy_set(settings.auth):
                if "persistence" in hub.remote:
                    log.info("RETENTION_DAYS/AUDIO_RETENTION_DAYS: the persistence service, "
                             "which keeps the calls, applies them")
                else:
                    retention = DailyPurge(hub.store, settings).start()
            yield
        finally:
            if sweeper is not None:
                await to_thread.run_sync(sweeper.stop)
            if retention is not None:
                await to_thread.run_sync(retention.stop)
            if queue is not None:
                await to_thread.run_sync(queue.stop)
            if jobs is not None:
                await to_thread.run_sync(jobs.deliveries.stop)
            await hub.aclose()

    app = new_app(settings, "Audio Magic Hub",
                  "Self-hosted call intelligence: the seed's API, offline by default. Send an "
                  "API key as `Authorization: Bearer KEY` or `X-API-Key: KEY`.", lifespan,
                  docs=False)
    # Built now, so a wrong RATE_LIMIT_* setting stops the start with its own message.
    app.state.rate_limits = RateLimits(settings.auth)
    allowed = [h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()]

    @app.middleware("http")
    async def known_host(request: Request, call_next):  # type: ignore[no-untyped-def]
        # The health routes stay open: probes (a kubelet's) name the pod's address, not the
        # service's.
        host = request.headers.get("host", "")
        if request.url.path not in HEALTH_PATHS and not host_allowed(host, allowed):
            return respond(request, 400, "host_not_allowed",
                           f"this hub does not answer to the host {host!r}; add it to "
                           "ALLOWED_HOSTS (comma-separated) if that is how it is reached")
        return await call_next(request)

    app.include_router(router)
    app.include_router(prompts_router)
    app.include_router(jobs_router)
    app.include_router(access_router)
    install_ui(app)
    install_docs(app)
    install_security_headers(app, settings)
    return app
