"""The jobs issue's figures, measured side by side in one run on this machine.

(a) 40 short calls as jobs through 1 worker and through 2 (in-process workers sharing one loaded
    model), wall time of each and the speedup.
(b) The queue's overhead per job: the same calls run directly (`Hub.process_now`) vs submitted
    as jobs to one worker and waited for.
(c) With --long-minutes M: an M-minute recording submitted to a real `audiohub serve` as a job
    with a webhook; prints when it is done and whether the webhook arrived correctly signed.

    python benchmarks/bench_jobs.py [--calls 40] [--long-minutes 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fastapi import FastAPI, Request  # noqa: E402

from audiohub.config import Settings  # noqa: E402
from audiohub.gateway.hub import Hub, build_hub  # noqa: E402
from audiohub.jobs.inprocess import InProcessQueue  # noqa: E402
from audiohub.jobs.service import JobService  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "audio"
CALLS = ["banking_card_block_16k.wav", "ecommerce_refund_16k.wav",
         "healthcare_appointment_16k.wav", "healthcare_appointment.mp3"]


def calls(n: int) -> list[Path]:
    return [FIXTURES / CALLS[i % len(CALLS)] for i in range(n)]


def as_jobs(hub: Hub, files: list[Path], workers: int) -> float:
    queue = InProcessQueue(workers)
    service = JobService(hub, queue)
    started = time.perf_counter()
    queue.start(service.process)
    ids = []
    for path in files:
        with path.open("rb") as f:  # force: the same recording is analysed again, not reused
            ids.append(service.submit(f, path.name, force=True).job_id)
    waiting = set(ids)
    while waiting:
        waiting = {j for j in waiting if service.status(j) not in ("done", "failed")}
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    queue.stop()
    failed = [j for j in ids if service.status(j) == "failed"]
    if failed:
        raise SystemExit(f"{len(failed)} jobs failed, e.g. {service.get(failed[0]).error}")
    return elapsed


def direct(hub: Hub, files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        hub.process_file(path)
    return time.perf_counter() - started


def long_job(minutes: float) -> None:
    import httpx
    from benchmarks.bench_pipeline import long_call
    from tests.processes import one_process, serve_in_thread

    from audiohub.jobs.webhooks import SIGNATURE_HEADER, verify

    got: list[tuple[str, bytes]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        got.append((request.headers.get(SIGNATURE_HEADER, ""), await request.body()))
        return {"ok": True}

    path = long_call(minutes)
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(receiver) as hook_url, \
            one_process(Path(tmp), Path(tmp) / "serve.log", WEBHOOK_SECRET="bench") as url:
        started = time.perf_counter()
        with path.open("rb") as f:
            job = httpx.post(f"{url}/api/jobs", files={"file": (path.name, f)},
                             data={"webhook_url": f"{hook_url}/hook"}, timeout=600).json()
        accepted = time.perf_counter() - started
        while not got:  # the webhook says when it is done
            time.sleep(1)
            if time.perf_counter() - started > 4 * 3600:
                raise SystemExit("no webhook after 4 hours")
        done = time.perf_counter() - started
        status = httpx.get(f"{url}/api/jobs/{job['job_id']}").json()
    signature, body = got[0]
    print(f"(c) a {minutes:g}-minute recording as a job: 202 after {accepted:.1f} s, "
          f"{status['status']} after {done:.0f} s (timings {status['timings']}); webhook "
          f"{'signed correctly' if verify(body, signature, 'bench') else 'NOT VERIFIED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--long-minutes", type=float, default=0)
    args = parser.parse_args()
    if args.long_minutes:
        long_job(args.long_minutes)
        return
    files = calls(args.calls)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("DATABASE_URL", None)
        hub = build_hub(Settings(AUDIOHUB_DATA_DIR=tmp))
        hub.load_models()
        direct(hub, files[:2])  # warm-up: first-call costs are not the queue's
        one = as_jobs(hub, files, 1)
        two = as_jobs(hub, files, 2)
        print(f"(a) {len(files)} short calls as jobs: 1 worker {one:.1f} s, 2 workers {two:.1f} s "
              f"-> speedup {one / two:.2f}x")
        n = min(10, len(files))
        plain = direct(hub, files[:n])
        queued = as_jobs(hub, files[:n], 1)
        print(f"(b) {n} calls: directly {plain:.1f} s, as jobs on 1 worker {queued:.1f} s -> "
              f"{(queued - plain) / n * 1000:.0f} ms of queue overhead per job")
        hub.close()


if __name__ == "__main__":
    main()
