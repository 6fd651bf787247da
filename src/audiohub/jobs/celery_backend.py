"""The distributed queue: Celery over Redis (or RabbitMQ), set by CELERY_BROKER_URL.

The gateway only publishes `audiohub.jobs.process(job_id)` (`CeleryQueue`); `audiohub worker`
processes run it. Each worker process builds its Hub and JobService once, models loaded, and
runs the same `JobService.process(job_id)` as the in-process queue.

A job survives a killed worker: messages are acknowledged only after the task returns
(`task_acks_late`), a pool child that dies has its message requeued
(`task_reject_on_worker_lost`), and a message a vanished worker held becomes visible again after
CELERY_VISIBILITY_TIMEOUT seconds (Redis). The task may therefore run twice for one job:
`process` leaves a finished job alone and finds a call the job already stored by its job id.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from audiohub.config import CelerySettings, Settings
from audiohub.errors import BackendUnavailableError, ConfigurationError
from audiohub.gateway.hub import build_hub
from audiohub.jobs.service import JobService

log = logging.getLogger("audiohub")

TASK = "audiohub.jobs.process"


def _require_broker(celery: CelerySettings) -> str:
    if not celery.broker_url:
        raise ConfigurationError(
            "the Celery queue needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
    return celery.broker_url


# --- the worker's one JobService per process ------------------------------------------------

_lock = threading.Lock()
_built: dict[int, JobService] = {}  # pid -> JobService: a forked pool child builds its own


def worker_service(settings: Settings, celery: CelerySettings) -> JobService:
    """This process's JobService (hub built and models loaded on the first call only)."""
    pid = os.getpid()
    with _lock:
        service = _built.get(pid)
        if service is None:
            hub = build_hub(settings)
            try:
                hub.load_models()
                service = JobService(hub, CeleryQueue(celery))
            except BaseException:
                hub.close()
                raise
            _built.clear()  # a parent's service, inherited by fork, is not ours to use
            _built[pid] = service
            log.info("worker %s: hub built, models loaded", pid)
        return service


def make_celery(settings: Settings, celery: CelerySettings | None = None) -> Any:
    """The Celery app for these settings, with `audiohub.jobs.process` registered."""
    celery = celery or settings.celery
    from celery import Celery

    app = Celery("audiohub", broker=_require_broker(celery), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": celery.visibility_timeout},
        task_default_queue=celery.queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
    )

    def process(job_id: str) -> None:
        worker_service(settings, celery).process(job_id)

    app.task(name=TASK, ignore_result=True)(process)
    return app


class CeleryQueue:
    """`JobQueue` for the gateway: publishes job ids; Celery workers run them."""

    def __init__(self, celery: CelerySettings, app: Any = None) -> None:
        self.settings = celery
        self.queue = celery.queue
        self._app = app
        self._app_lock = threading.Lock()

    def _celery(self) -> Any:
        with self._app_lock:
            if self._app is None:
                from celery import Celery

                app = Celery("audiohub", broker=_require_broker(self.settings),
                             set_as_current=False)
                app.conf.update(broker_connection_timeout=5, task_default_queue=self.queue,
                                broker_transport_options={
                                    "visibility_timeout": self.settings.visibility_timeout})
                self._app = app
            return self._app

    def enqueue(self, job_id: str) -> None:
        from kombu.exceptions import OperationalError

        try:
            self._celery().send_task(
                TASK, args=[job_id], queue=self.queue, ignore_result=True,
                retry=True, retry_policy={"max_retries": 2, "interval_start": 0,
                                          "interval_step": 0.5, "interval_max": 1})
        except (OperationalError, OSError) as exc:
            raise BackendUnavailableError(
                f"the job queue's broker (CELERY_BROKER_URL={_redacted(self.settings)}) is not "
                f"reachable: {exc}; the job was not accepted, try again later") from exc

    def start(self, task: Callable[[str], None]) -> None:
        """Nothing to run in the gateway: `audiohub worker` processes run the task."""

    def stop(self) -> None:
        """Release the broker connections."""
        with self._app_lock:
            if self._app is not None:
                self._app.close()
                self._app = None


def _redacted(celery: CelerySettings) -> str:
    """The broker URL with its password hidden (it ends up in a 503 body and the logs)."""
    from urllib.parse import urlsplit, urlunsplit

    url = celery.broker_url or ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
