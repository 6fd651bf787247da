"""Measure WHISPER_KEYTERM_HINT (hotwords, prompt, none) on a sample of TUNING calls.

Each call is decoded by the Whisper backend (FasterWhisperTranscriber, base unless --model) once
per hint mode, with the call's own keyterms (its expected names, places and product words, as
eval/tune_vocabulary.py takes them). Per mode: the share of expected values found whole in the
transcript, WER (jiwer on normalize_for_wer), and keyterms written more often than the reference
says them (a hint copied into the transcript where it was not said). No correction pass here:
this measures the decoder alone.

    .venv/bin/python eval/measure_keyterm_hint.py [--per-rate 10] [--model base]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jiwer

from audiohub.config import Settings, WhisperSettings
from audiohub.evaluation.normalize import field_found, normalize_for_wer
from audiohub.transcription.audio import decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from audiohub.transcription.correction import key

sys.path.insert(0, str(Path(__file__).parent))
from tune_vocabulary import keyterms

OUT = Path(__file__).parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-rate", type=int, default=10)
    parser.add_argument("--model", default="base")
    args = parser.parse_args()
    settings = Settings()
    modes = ("none", "hotwords", "prompt")
    transcribers = {m: FasterWhisperTranscriber(
        WhisperSettings(model=args.model, keyterm_hint=m), settings.models_dir) for m in modes}
    print("| rate | hint | calls | values heard | WER | extra keyterms | seconds |")
    print("|---|---|---|---|---|---|---|")
    for rate in ("16k", "8k"):
        items = json.loads((OUT / f"tuning_{rate}.json").read_text())["items"]
        # Calls with keyterms only (without, every mode decodes the same), spread over the set.
        usable = [it for it in items if keyterms(it["fields"])]
        step = max(len(usable) // args.per_rate, 1)
        sample = usable[::step][:args.per_rate]
        for mode in modes:
            refs, hyps, heard, values, extra, seconds = [], [], 0, 0, 0, 0.0
            for it in sample:
                terms = keyterms(it["fields"])
                audio = decode_file(OUT / it["audio"])
                t0 = time.perf_counter()
                text = transcribers[mode].transcribe(audio, terms).text
                seconds += time.perf_counter() - t0
                refs.append(normalize_for_wer(it["reference"]))
                hyps.append(normalize_for_wer(text))
                for v in (v for v in it["fields"].values() if v):
                    values += 1
                    heard += field_found(v, text)
                for term in terms:  # a term written more often than it was said
                    k = key(term)
                    extra += max(key(text).count(k) - key(it["reference"]).count(k), 0)
            wer = jiwer.wer(refs, hyps)
            print(f"| {rate} | {mode} | {len(sample)} | {heard}/{values} = "
                  f"{heard / max(values, 1):.3f} | {wer:.3f} | {extra} | {seconds:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
