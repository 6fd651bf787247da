"""The queue contract: jobs are enqueued by id only, after their row is committed, and every
backend runs the same task, `JobService.process(job_id)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class JobQueue(Protocol):
    def enqueue(self, job_id: str) -> None:
        """Schedule `job_id`; returns at once."""
        ...

    def start(self, task: Callable[[str], None]) -> None:
        """Begin running `task(job_id)` for queued jobs (JobService.process)."""
        ...

    def stop(self) -> None:
        """Finish the jobs being run; the rest stay queued in the database for the next start."""
        ...
