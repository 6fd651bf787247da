"""The distributed queue: Celery over Redis (or RabbitMQ), set by CELERY_BROKER_URL.

A job is two tasks on two queues, so transcription can run on GPU hosts and analysis elsewhere:
the gateway publishes `audiohub.jobs.transcribe(job_id)` to CELERY_TRANSCRIPTION_QUEUE; the worker
that runs it keeps the transcription on the job row and publishes `audiohub.jobs.analyze(job_id)`
to CELERY_ANALYSIS_QUEUE, where a worker runs the rest (`JobService.process`, the in-process
queue's task too). `audiohub worker` processes run them; each builds its Hub and JobService once,
with the models of the queues it consumes loaded.

A job survives a killed worker within about a minute: the run holds the job and writes a
heartbeat while it runs, and once that has been silent for JOB_STALE_SECONDS a sweeper (in the
gateway and in every worker, jobs/recovery.py) queues the job again. The broker's own
redelivery backs that up: messages are acknowledged only after the task returns
(`task_acks_late`), a pool child that dies has its message requeued
(`task_reject_on_worker_lost`), RabbitMQ requeues a dead connection's messages at once, and Redis
makes a vanished worker's message visible again after CELERY_VISIBILITY_TIMEOUT. A task may
therefore arrive more than once for one job: a copy that finds the job held by a live run, or
ended, does nothing; a kept transcription is not made again, and a call the job already stored
is found by its job id. Retrying jobs (a stage was down) are queued again by the same sweeper
when they are due, so no message waits in the broker (or in a worker's prefetch) for hours.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from audiohub.config import CelerySettings, Settings
from audiohub.errors import BackendUnavailableError, ConfigurationError
from audiohub.gateway.hub import build_hub
from audiohub.jobs.service import JobService

log = logging.getLogger("audiohub")

TRANSCRIBE = "audiohub.jobs.transcribe"
ANALYZE = "audiohub.jobs.analyze"


def _require_broker(celery: CelerySettings) -> str:
    if not celery.broker_url:
        raise ConfigurationError(
            "the Celery queue needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
    return celery.broker_url


@dataclass(frozen=True)
class Roles:
    """Which halves of a job a worker runs, from the queues it consumes: it loads only their
    models (the transcription half classifies too, so it needs the analyzer as well)."""

    transcription: bool = True
    analysis: bool = True

    @classmethod
    def of(cls, queues: Iterable[str], celery: CelerySettings) -> Roles:
        names = set(queues)
        roles = cls(celery.transcription_queue in names, celery.analysis_queue in names)
        return roles if roles.transcription or roles.analysis else cls()


# --- the worker's one JobService per process ------------------------------------------------

@dataclass(frozen=True)
class _Worker:
    service: JobService
    queue: CeleryQueue


_lock = threading.Lock()
_built: dict[int, _Worker] = {}  # pid -> its worker: a forked pool child builds its own


def worker_service(settings: Settings, celery: CelerySettings,
                   roles: Roles = Roles()) -> JobService:
    """This process's JobService (hub built and models loaded on the first call only)."""
    return _worker(settings, celery, roles).service


def _worker(settings: Settings, celery: CelerySettings, roles: Roles) -> _Worker:
    pid = os.getpid()
    with _lock:
        built = _built.get(pid)
        if built is None:
            hub = build_hub(settings)
            queue = CeleryQueue(celery)
            try:
                hub.load_models(transcription=roles.transcription, analysis=roles.analysis)
                built = _Worker(JobService(hub, queue), queue)
            except BaseException:
                hub.close()
                raise
            _built.clear()  # a parent's service, inherited by fork, is not ours to use
            _built[pid] = built
            halves = [name for name, on in (("transcription", roles.transcription),
                                            ("analysis", roles.analysis)) if on]
            log.info("worker %s: hub built, models loaded for %s", pid, " and ".join(halves))
        return built


def release_worker() -> None:
    """Close this process's hub and broker connections (a worker's warm shutdown)."""
    with _lock:
        for built in _built.values():
            built.queue.stop()
            built.service.hub.close()
        _built.clear()


def make_celery(settings: Settings, celery: CelerySettings | None = None,
                roles: Roles = Roles()) -> Any:
    """The Celery app for these settings, with both halves of a job registered as tasks."""
    celery = celery or settings.celery
    from celery import Celery

    app = Celery("audiohub", broker=_require_broker(celery), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": celery.visibility_timeout},
        task_default_queue=celery.transcription_queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
    )

    def transcribe(job_id: str) -> None:
        worker = _worker(settings, celery, roles)
        if worker.service.transcribe(job_id):
            try:
                _hand_over(worker.queue, job_id, celery.handoff_seconds)
            except BackendUnavailableError as exc:
                # The broker stayed away: no worker can be told to go on, so the job ends here
                # and says why (its recording and transcription are not kept past its end).
                worker.service.fail(job_id, exc)

    def analyze(job_id: str) -> None:
        _worker(settings, celery, roles).service.process(job_id)

    app.task(name=TRANSCRIBE, ignore_result=True)(transcribe)
    app.task(name=ANALYZE, ignore_result=True)(analyze)
    return app


def _hand_over(queue: CeleryQueue, job_id: str, seconds: float) -> None:
    """Queue the job's analysis, riding out a broker restart of up to `seconds`."""
    for attempt in Retrying(stop=stop_after_delay(seconds), wait=wait_exponential(max=15),
                            retry=retry_if_exception_type(BackendUnavailableError),
                            reraise=True):
        with attempt:
            queue.enqueue_analysis(job_id)


class CeleryQueue:
    """`JobQueue` for the gateway (publishes job ids; Celery workers run them), and the
    transcription workers' handover to the analysis queue."""

    def __init__(self, celery: CelerySettings, app: Any = None) -> None:
        self.settings = celery
        self._app = app
        self._app_lock = threading.Lock()

    def _celery(self) -> Any:
        with self._app_lock:
            if self._app is None:
                from celery import Celery

                app = Celery("audiohub", broker=_require_broker(self.settings),
                             set_as_current=False)
                app.conf.update(broker_connection_timeout=5,
                                task_default_queue=self.settings.transcription_queue,
                                broker_transport_options={
                                    "visibility_timeout": self.settings.visibility_timeout})
                self._app = app
            return self._app

    def enqueue(self, job_id: str) -> None:
        self._send(TRANSCRIBE, self.settings.transcription_queue, job_id,
                   "the job was not accepted, try again later")

    def enqueue_analysis(self, job_id: str) -> None:
        self._send(ANALYZE, self.settings.analysis_queue, job_id,
                   "the job's analysis could not be queued; submit the recording again")

    def _send(self, task: str, queue: str, job_id: str, consequence: str) -> None:
        from kombu.exceptions import OperationalError

        try:
            self._celery().send_task(
                task, args=[job_id], queue=queue, ignore_result=True,
                retry=True, retry_policy={"max_retries": 2, "interval_start": 0,
                                          "interval_step": 0.5, "interval_max": 1})
        except (OperationalError, OSError) as exc:
            raise BackendUnavailableError(
                f"the job queue's broker (CELERY_BROKER_URL={_redacted(self.settings)}) is not "
                f"reachable: {exc}; {consequence}") from exc

    def start(self, task: Callable[[str], None]) -> None:
        """Nothing to run in the gateway: `audiohub worker` processes run the tasks."""

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
