"""`audiohub worker`: a Celery worker running `audiohub.jobs.process` (CELERY_BROKER_URL).

With --concurrency 1 (the default) the worker is one process (Celery's `solo` pool): it loads the
models before it takes a job, and killing it kills the job with it, so the broker redelivers the
job to another worker. Scale by running more workers (replicas), each with its own models. With
--concurrency N it forks N pool processes (`prefork`), each loading the models once at start.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer


def worker(
    queues: Annotated[str | None, typer.Option(
        help="Comma-separated queues to consume; default CELERY_QUEUE (audiohub).")] = None,
    concurrency: Annotated[int, typer.Option(
        min=1, help="Jobs run at once; each runs in its own process with its own models.")] = 1,
) -> None:
    """Run a queue worker: jobs posted to /api/jobs, analysed here (needs CELERY_BROKER_URL)."""
    import logging

    from audiohub.cli import _settings, console
    from audiohub.errors import AudioHubError
    from audiohub.jobs.celery_backend import make_celery, worker_service

    settings = _settings()
    celery = settings.celery
    try:
        app = make_celery(settings, celery)
    except AudioHubError as exc:
        console.print(f"[red]configuration error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    names = queues or celery.queue
    if concurrency == 1:
        pool = "solo"
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s] %(message)s")
        worker_service(settings, celery)  # models loaded before the first job is taken
    else:
        from celery.signals import worker_process_init

        pool = "prefork"

        def preload(**_: object) -> None:
            worker_service(settings, celery)

        # Each pool child builds its own hub after the fork (model runtimes are not fork-safe).
        worker_process_init.connect(preload, weak=False)
    app.worker_main([
        "worker", f"--queues={names}", f"--concurrency={concurrency}", f"--pool={pool}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle",
        # Unique per process: several workers may share a host.
        f"--hostname=audiohub-{os.getpid()}@%h",
    ])


if __name__ == "__main__":
    typer.run(worker)
