"""`audiohub worker`: a Celery worker running jobs' tasks (CELERY_BROKER_URL): the transcription
queue's, the analysis queue's, or both (the default). A worker on one queue loads only that
half's models, so transcription can run on GPU hosts and analysis elsewhere.

With --concurrency 1 (the default) the worker is one process (Celery's `solo` pool): it loads the
models before it takes a job, and killing it kills the job with it, so the broker redelivers the
job to another worker. Scale by running more workers (replicas), each with its own models. With
--concurrency N it forks N pool processes (`prefork`), each loading the models once at start.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from audiohub.config import Settings


def worker(
    queues: Annotated[str | None, typer.Option(
        help="Comma-separated queues to consume; default both, CELERY_TRANSCRIPTION_QUEUE "
             "(transcription) and CELERY_ANALYSIS_QUEUE (analysis).")] = None,
    concurrency: Annotated[int, typer.Option(
        min=1, help="Jobs run at once; each runs in its own process with its own models.")] = 1,
) -> None:
    """Run a queue worker: jobs posted to /api/jobs, analysed here (needs CELERY_BROKER_URL)."""
    import logging

    from celery.signals import worker_shutdown

    from audiohub.cli import _settings, console
    from audiohub.errors import AudioHubError
    from audiohub.jobs.celery_backend import Roles, make_celery, release_worker, worker_service

    settings = _settings()
    celery = settings.celery
    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else [
        celery.transcription_queue, celery.analysis_queue]
    if not names:
        console.print("[red]--queues names no queue[/red]")
        raise typer.Exit(2)
    roles = Roles.of(names, celery)
    try:
        app = make_celery(settings, celery, roles)
    except AudioHubError as exc:
        console.print(f"[red]configuration error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    if concurrency == 1:
        pool = "solo"
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s] %(message)s")
        worker_service(settings, celery, roles)  # models loaded before the first job is taken
    else:
        from celery.signals import worker_process_init

        pool = "prefork"

        def preload(**_: object) -> None:
            worker_service(settings, celery, roles)

        # Each pool child builds its own hub after the fork (model runtimes are not fork-safe).
        worker_process_init.connect(preload, weak=False)
    worker_shutdown.connect(lambda **_: release_worker(), weak=False)
    _retention(settings)
    _sweeper(settings)
    app.worker_main([
        "worker", f"--queues={','.join(names)}", f"--concurrency={concurrency}", f"--pool={pool}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle",
        # Unique per process: several workers may share a host.
        f"--hostname=audiohub-{os.getpid()}@%h",
    ])


def _retention(settings: Settings) -> None:
    """RETENTION_DAYS / AUDIO_RETENTION_DAYS: purge daily from this worker, in a daemon thread
    started once the worker is up (after its pool processes have forked), when the calls are
    stored from here (no PERSISTENCE_SERVICE_URL)."""
    from celery.signals import worker_ready

    from audiohub.components import Components
    from audiohub.persistence.retention import DailyPurge, policy_set

    if not policy_set(settings.auth) or settings.services.url("persistence"):
        return

    def start(**_: object) -> None:
        DailyPurge(Components(settings).store, settings).start()

    worker_ready.connect(start, weak=False)


def _sweeper(settings: Settings) -> None:
    """Queue again, from this worker too, the jobs of workers that died (their heartbeat went
    silent for JOB_STALE_SECONDS) and the retrying jobs that are due: started once the worker is
    up, in its main process, with a database connection and a broker client of its own."""
    from celery.signals import worker_ready, worker_shutdown

    from audiohub.jobs.celery_backend import CeleryQueue
    from audiohub.jobs.recovery import Sweeper
    from audiohub.persistence.db import Database

    def start(**_: object) -> None:
        db = Database(settings.database_url)
        queue = CeleryQueue(settings.celery)
        sweeper = Sweeper(db, queue, settings.jobs).start()

        def stop(**_: object) -> None:
            sweeper.stop()
            queue.stop()
            db.engine.dispose()

        worker_shutdown.connect(stop, weak=False)

    worker_ready.connect(start, weak=False)


if __name__ == "__main__":
    typer.run(worker)
