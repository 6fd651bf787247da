"""The default queue: worker threads inside `audiohub serve` (WORKERS, default 1). Nothing is
lost when the process stops: a job's row says where it was, and the next start queues it again
(`JobService.recover`). Retrying jobs whose time has come, and jobs a dead process held, are
put here by the gateway's sweeper (jobs/recovery.py), as for Celery."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("audiohub")


class InProcessQueue:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._task: Callable[[str], None] = lambda _: None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []

    def enqueue(self, job_id: str) -> None:
        self._queue.put(job_id)

    def start(self, task: Callable[[str], None]) -> None:
        self._task = task
        for n in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"job-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30) -> None:
        for _ in self._threads:
            self._queue.put(None)  # after the queued ones: those still waiting run first
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            try:
                self._task(job_id)
            except Exception:  # a worker must outlive any one job
                log.exception("job %s crashed its worker's task", job_id)
