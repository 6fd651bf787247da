"""Issue 4's two figures, measured side by side in one run on this machine.

(a) The same ~5-minute call through the five services (five processes on loopback, HTTP between
    them) divided by the one-process hub (`audiohub serve all`); goal <= 1.15. Runs alternate
    A, B, A, B ... so drift on a shared machine hits both; the best run of each is compared.
(b) A 20 MB recording sent to the transcription service as the seed did (hex inside JSON) and
    as we do (raw bytes): bytes on the wire and wall time of the request.

    python benchmarks/bench_services.py [--runs 2]

The call is rendered once into benchmarks/out/ (needs espeak-ng, sox, ffmpeg).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.bench_pipeline import OUT, long_call  # noqa: E402
from tests.processes import Server, free_port, one_process, start_five  # noqa: E402

TOKEN = "bench-token"


@contextlib.contextmanager
def five_services(root: Path) -> Iterator[dict[str, str]]:
    # Prompt and persistence share one SQLite file, like the one-process hub's.
    servers = start_five(root, f"sqlite:///{root / 'five.db'}", TOKEN)
    try:
        for server in servers.values():
            server.start()
        yield {stage: server.url for stage, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


def post_call(gateway: str, call: Path) -> float:
    started = time.perf_counter()
    with call.open("rb") as f:
        r = httpx.post(f"{gateway}/api/transcribe/", files={"file": (call.name, f)},
                       timeout=1800)
    elapsed = time.perf_counter() - started
    r.raise_for_status()
    return elapsed


def bench_topologies(call: Path, runs: int) -> None:
    one: list[float] = []
    five: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for run in range(runs):
            with one_process(root / "all", root / "all.log") as url:
                if run == 0:
                    post_call(url, call)  # page cache and first-request costs, not measured
                one.append(post_call(url, call))
            with five_services(root) as urls:
                five.append(post_call(urls["gateway"], call))
            print(f"    run {run + 1}: one process {one[-1]:.1f} s, five services "
                  f"{five[-1]:.1f} s", flush=True)
    print(f"(a) {call.name}: one process {min(one):.1f} s, five services {min(five):.1f} s "
          f"-> ratio {min(five) / min(one):.3f} (goal <= 1.15)")


def quiet_wav(path: Path, megabytes: float) -> Path:
    """A 16 kHz mono recording of faint noise, `megabytes` long: decoding it is real work,
    transcribing it is not (VAD finds no speech), so the request's transport cost shows."""
    if not path.exists():
        samples = int(megabytes * 1024 * 1024 / 2)
        noise = (np.random.default_rng(0).normal(0, 30, samples)).astype("<i2")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(noise.tobytes())
    return path


def bench_upload(runs: int) -> None:
    audio = quiet_wav(OUT / "quiet_20mb.wav", 20).read_bytes()
    hexed = httpx.Request("POST", "http://x", json={"file_bytes": audio.hex(),
                                                    "mime_type": "audio/wav"}).read()
    headers = {"X-Service-Token": TOKEN}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server("transcription", free_port(), {
            "AUDIOHUB_DATA_DIR": str(Path(tmp) / "t"), "SERVICE_TOKEN": TOKEN,
            "MAX_UPLOAD_MB": "25"}, Path(tmp) / "t.log")
        server.env.pop("DATABASE_URL", None)
        server.start()
        try:
            seed, ours = [], []
            for _ in range(runs + 1):  # the first pair warms up, the best of the rest counts
                for body, kind, out in ((hexed, "application/json", seed),
                                        (audio, "application/octet-stream", ours)):
                    started = time.perf_counter()
                    r = httpx.post(f"{server.url}/transcribe", content=body, timeout=600,
                                   headers={**headers, "Content-Type": kind})
                    r.raise_for_status()
                    out.append(time.perf_counter() - started)
        finally:
            server.stop()
    s, o = min(seed[1:]), min(ours[1:])
    print(f"(b) 20 MB upload to the transcription service: hex in JSON (seed) "
          f"{len(hexed) / 1e6:.1f} MB in {s:.2f} s, raw bytes (ours) {len(audio) / 1e6:.1f} MB "
          f"in {o:.2f} s -> {len(hexed) / len(audio):.2f}x the bytes, {s / o:.2f}x the time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=5)
    args = parser.parse_args()
    bench_topologies(long_call(args.minutes), args.runs)
    bench_upload(args.runs)


if __name__ == "__main__":
    main()
