"""Many recordings from the command line (`audiohub analyze DIR_OR_GLOB --jobs`): the arguments
expanded into audio files, each submitted as a job to worker threads in this process, and the
jobs followed until every one is done or failed.

Jobs dedupe as on the server: a recording already analysed by this pipeline is reused unless
`force`. Copies of one recording within a batch are submitted after the first copy has finished,
so they are reused however many workers run.
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audiohub.errors import AudioHubError, InvalidInputError
from audiohub.gateway.hub import Hub
from audiohub.jobs.inprocess import InProcessQueue
from audiohub.jobs.recovery import Sweeper
from audiohub.jobs.schemas import Job, JobError
from audiohub.jobs.service import JobService
from audiohub.persistence.audio_store import sha256_file

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac", ".webm"})
_GLOB_CHARS = frozenset("*?[")


def expand_paths(arguments: Iterable[str]) -> list[Path]:
    """Each argument as files: a directory gives its audio files (recursively, by extension), a
    file itself, a glob pattern its matching files. A file named twice is kept once, in the
    order first given. An argument that gives no file is an `InvalidInputError`."""
    found: dict[Path, Path] = {}
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not files:
                raise InvalidInputError(
                    f"no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))}) in directory {arg}")
        elif path.is_file():
            files = [path]
        elif _GLOB_CHARS & set(arg):
            files = sorted(Path(p) for p in glob.glob(arg, recursive=True) if Path(p).is_file())
            if not files:
                raise InvalidInputError(f"no files match {arg}")
        else:
            raise InvalidInputError(f"no such file or directory: {arg}")
        for f in files:
            found.setdefault(f.resolve(), f)
    return list(found.values())


@dataclass
class BatchItem:
    """One file of a batch: its job, or why it could not even be submitted."""

    path: Path
    job: Job | None = None
    error: JobError | None = None

    @property
    def failed(self) -> bool:
        return self.job is None or self.job.status == "failed"


def run_batch(hub: Hub, files: list[Path], workers: int, on_done: Callable[[BatchItem], None],
              force: bool = False, poll_s: float = 0.2,
              keyterms: Sequence[str] = ()) -> list[BatchItem]:
    """Analyse `files` as jobs on `workers` threads, each with `keyterms`; `on_done` is called
    as each one ends (done, failed, or refused at submission). Returns one item per file, in
    the order given."""
    queue = InProcessQueue(workers)
    service = JobService(hub, queue)
    items = [BatchItem(path) for path in files]
    first: list[BatchItem] = []
    copies: list[BatchItem] = []
    seen: set[str] = set()
    for item in items:
        try:
            sha = sha256_file(item.path)
        except OSError:
            sha = str(item.path)  # submission will say what is wrong with it
        (copies if sha in seen else first).append(item)
        seen.add(sha)
    queue.start(service.process)
    # Runs the retrying jobs (a stage was down) when they are due, so the batch ends.
    sweeper = Sweeper(hub.parts.db, queue, hub.settings.jobs).start()
    finished = False
    try:
        for wave in (first, copies):
            pending = [item for item in wave
                       if _submit(service, item, force, on_done, keyterms)]
            while pending:
                time.sleep(poll_s)
                for item in list(pending):
                    assert item.job is not None
                    item.job = service.get(item.job.job_id)
                    if item.job.status in ("done", "failed"):
                        pending.remove(item)
                        on_done(item)
        finished = True
    finally:
        # Interrupted (Ctrl-C): do not wait for the jobs still queued; they stay in the jobs
        # table, and `audiohub serve` picks them up again.
        sweeper.stop()
        queue.stop(timeout=30 if finished else 0)
    return items


def _submit(service: JobService, item: BatchItem, force: bool,
            on_done: Callable[[BatchItem], None], keyterms: Sequence[str] = ()) -> bool:
    """Submit one file; False (and `on_done` at once) when it is refused."""
    try:
        with item.path.open("rb") as f:
            accepted = service.submit(f, item.path.name, force=force, keyterms=keyterms)
    except AudioHubError as exc:
        item.error = JobError(error=exc.error, detail=exc.detail)
    except OSError as exc:
        item.error = JobError(error="unreadable_file", detail=str(exc))
    else:
        item.job = service.get(accepted.job_id)
        return True
    on_done(item)
    return False
