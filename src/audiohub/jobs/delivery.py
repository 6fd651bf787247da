"""Webhook delivery apart from the job workers: a worker hands a finished job over and goes on
to the next job at once, and a slow or silent receiver holds only a delivery thread, for at most
WEBHOOK_TIMEOUT per attempt. Waits between attempts hold no thread at all: a retry is a due time
in a heap, taken by whichever thread is free when it comes.

Each attempt is recorded on the job (`webhook_attempts`) as soon as it ends, so the job's row
says how far its delivery got: a stop leaves the rest there, and the next start goes on from it
(`recover`). Delivery is at least once: a receiver may see a job again after a crash, and should
treat its `job_id` as the key.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from audiohub.config import JobSettings
from audiohub.errors import NotFoundError
from audiohub.jobs.repository import JobRepository
from audiohub.jobs.schemas import UNFINISHED, Job, WebhookAttempt
from audiohub.jobs.webhooks import (
    AddressPolicy,
    Resolver,
    check_webhook_url,
    encode,
    next_wait,
    resolve_host,
    send_once,
)
from audiohub.persistence.db import Database

log = logging.getLogger("audiohub")

# A delivery still unfinished this long after its job ended is not taken up again at a start:
# its news is stale, and the look-back stays bounded however many jobs the table holds.
RECOVER_WITHIN = timedelta(days=1)


class Deliveries:
    """The webhooks of one process's finished jobs, sent on WEBHOOK_WORKERS threads of their own.

    Args:
        db: the jobs' database (attempts are recorded on the job's row).
        settings: WEBHOOK_* settings.
        read: the job as its owner reads it (JobService.get): the webhook's body.
        resolve: host, port -> addresses; the tests swap the answer between submission and
            connection to show the check is made on the address connected.
    """

    def __init__(self, db: Database, settings: JobSettings, read: Callable[[str], Job],
                 resolve: Resolver = resolve_host) -> None:
        self.db = db
        self.settings = settings
        self.read = read
        self.resolve = resolve
        self.policy = AddressPolicy.parse(settings.webhook_allow_hosts)
        self.secret = (settings.webhook_secret.get_secret_value()
                       if settings.webhook_secret else None)
        self._due: list[tuple[float, int, str]] = []  # (monotonic due time, order, job id)
        self._order = itertools.count()
        self._pending: set[str] = set()  # scheduled or being sent: each job once at a time
        self._bodies: dict[str, bytes] = {}  # made once: every attempt sends the same bytes
        # Jobs that have just ended: their delivery starts afresh, whatever an earlier end of
        # the same job (before a retry) recorded.
        self._fresh: set[str] = set()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def check(self, url: str) -> str:
        """A webhook_url as submitted (see webhooks.check_webhook_url, under this policy)."""
        return check_webhook_url(url, self.policy, self.resolve)

    def submit(self, job_id: str) -> None:
        """Send the ended job's webhook (if it has one) from a delivery thread; returns at once."""
        with self._cond:
            self._fresh.add(job_id)
            self._bodies.pop(job_id, None)  # an earlier end's news
        self._schedule(job_id, 0.0)

    def recover(self) -> int:
        """Take up the deliveries a stop or crash left unfinished: jobs that ended within a
        day, with a webhook_url, neither delivered nor given up. Returns how many."""
        since = datetime.now(UTC) - RECOVER_WITHIN
        with self.db.session() as session:
            ended = JobRepository(session).ended_with_webhook(since)
        count = 0
        for job_id, recorded in ended:
            attempts = [WebhookAttempt.model_validate(a) for a in recorded]
            if next_wait(attempts, self.settings.webhook_attempts, 0) is not None:
                self._schedule(job_id, 0.0)
                count += 1
        return count

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending; what is not delivered stays recorded as such for `recover`. An attempt
        under way is given `timeout` seconds (its threads are daemons: they never hold the
        process up)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _schedule(self, job_id: str, delay: float) -> None:
        with self._cond:
            if self._stopping or job_id in self._pending:
                return
            self._pending.add(job_id)
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), job_id))
            self._start()
            self._cond.notify()

    def _start(self) -> None:
        """The threads, on the first delivery (under the lock)."""
        while len(self._threads) < self.settings.webhook_workers:
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"webhook-{len(self._threads)}")
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while (job_id := self._next()) is not None:
            try:
                wait = self._attempt(job_id)
            except Exception:  # a delivery thread must outlive any one job
                log.exception("job %s: its webhook could not be sent", job_id)
                wait = None
            with self._cond:
                if wait is None or self._stopping:
                    self._pending.discard(job_id)
                    self._bodies.pop(job_id, None)
                else:
                    heapq.heappush(self._due, (time.monotonic() + wait, next(self._order),
                                               job_id))
                    self._cond.notify()

    def _next(self) -> str | None:
        """The next due job, waiting for it; None once stopping."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._due and self._due[0][0] <= now:
                    return heapq.heappop(self._due)[2]
                self._cond.wait(self._due[0][0] - now if self._due else None)
            return None

    def _attempt(self, job_id: str) -> float | None:
        """One attempt for the job, recorded on it; seconds until the next, or None if done."""
        settings = self.settings
        try:
            job = self.read(job_id)
        except NotFoundError:
            return None  # deleted since it ended
        if job.status in UNFINISHED or not job.webhook_url:
            return None  # run again since (a retry): it will be announced when it ends
        with self._cond:
            fresh = job_id in self._fresh
            self._fresh.discard(job_id)
        attempts = [] if fresh else list(job.webhook_attempts)
        if next_wait(attempts, settings.webhook_attempts, 0) is None:
            return None  # delivered or given up before a restart
        if (body := self._bodies.get(job_id)) is None:
            # The job as its owner reads it, result included; its delivery record is not news.
            payload = {"event": f"job.{job.status}",
                       "job": job.model_dump(mode="json", exclude={"webhook_attempts"})}
            body = self._bodies[job_id] = encode(payload)
        attempt = send_once(job.webhook_url, body, self.secret, event=f"job.{job.status}",
                            timeout_s=settings.webhook_timeout, policy=self.policy,
                            resolve=self.resolve)
        attempts.append(attempt)
        with self.db.session() as session:  # the job has ended: not JobService.record
            JobRepository(session).update(
                job_id, webhook_attempts=[a.model_dump(mode="json") for a in attempts])
        log.info("job %s: webhook attempt %d: %s %s in %.3f s", job_id, len(attempts),
                 attempt.outcome, attempt.status_code or "", attempt.seconds)
        return next_wait(attempts, settings.webhook_attempts, settings.webhook_backoff_seconds)
