"""Speed and accuracy of Whisper models on an eval set, for choosing WHISPER_MODEL on a GPU host.

For each model: the real-time factor (seconds of compute per second of audio, model load not
counted) of the hub's transcriber alone and with the coverage check after it (what a call pays),
and the WER over the calls, on the device and compute type given. With `--device cuda` the
batched pipeline runs (WHISPER_BATCH_SIZE), as in the hub.

    python benchmarks/bench_gpu.py --models large-v3-turbo distil-large-v3 base \\
        --manifest eval/out/tuning_16k.json --limit 20
    python benchmarks/bench_gpu.py --models tiny.en base --device cpu --compute-type int8 --limit 3

Models the hub cannot find locally are fetched only with AUDIOHUB_ALLOW_DOWNLOADS=true (or fetched
ahead with `audiohub prepare-models NAME...`). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jiwer

from audiohub.config import Settings, WhisperSettings
from audiohub.evaluation.manifest import EvalItem, load_manifest
from audiohub.evaluation.normalize import normalize_for_wer
from audiohub.transcription.audio import decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from audiohub.transcription.coverage import VadConfig, check_coverage


@dataclass
class Row:
    model: str
    load_s: float
    audio_s: float
    decode_s: float
    total_s: float
    wer: float
    coverage: float | None


def bench(model: str, items: list[EvalItem], args: argparse.Namespace,
          settings: Settings) -> Row:
    whisper = WhisperSettings(model=model, device=args.device, compute_type=args.compute_type,
                              batch_size=args.batch_size, beam_size=args.beam_size)
    t = FasterWhisperTranscriber(whisper, settings.models_dir, settings.allow_downloads)
    start = time.perf_counter()
    t.load()
    load_s = time.perf_counter() - start
    audio_s = decode_s = total_s = 0.0
    refs: list[str] = []
    hyps: list[str] = []
    coverages: list[float] = []
    for item in items:
        audio = decode_file(item.audio)
        start = time.perf_counter()
        raw = t.transcribe(audio)
        decoded = time.perf_counter()
        checked = check_coverage(raw, audio, t, (), whisper.coverage_min_gap_s,
                                 VadConfig(threshold=whisper.vad_threshold))
        done = time.perf_counter()
        audio_s += audio.duration
        decode_s += decoded - start
        total_s += done - start
        refs.append(normalize_for_wer(item.reference))
        hyps.append(normalize_for_wer(checked.text))
        if checked.speech_coverage is not None:
            coverages.append(checked.speech_coverage)
    return Row(model, load_s, audio_s, decode_s, total_s, float(jiwer.wer(refs, hyps)),
               sum(coverages) / len(coverages) if coverages else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["large-v3-turbo", "distil-large-v3",
                                                        "base"])
    parser.add_argument("--manifest", type=Path, default=Path("eval/out/tuning_16k.json"))
    parser.add_argument("--limit", type=int, default=None, help="the first N calls only")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu", "auto"])
    parser.add_argument("--compute-type", default="float16")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--beam-size", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    items = load_manifest(args.manifest).items[:args.limit]
    print(f"{len(items)} calls from {args.manifest}, device {args.device}, "
          f"compute type {args.compute_type}"
          + (f", batch size {args.batch_size}" if args.device == "cuda" else ""), flush=True)
    rows = [bench(m, items, args, settings) for m in args.models]
    print(f"\n{'model':<22}{'load s':>8}{'audio s':>9}{'RTF':>8}{'RTF+cov':>9}{'WER':>8}"
          f"{'coverage':>10}")
    for r in rows:
        cov = f"{r.coverage:.3f}" if r.coverage is not None else "-"
        print(f"{r.model:<22}{r.load_s:>8.1f}{r.audio_s:>9.0f}{r.decode_s / r.audio_s:>8.3f}"
              f"{r.total_s / r.audio_s:>9.3f}{r.wer:>8.3f}{cov:>10}")


if __name__ == "__main__":
    main()
