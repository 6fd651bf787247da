"""Measure the custom-vocabulary correction pass on the TUNING calls' raw base transcripts.

Reads /tmp/h16/dump/<16k|8k>/<id>.json (base's transcript of each tuning call, with its reference
text and expected fields; written by the issue-16 dump script) and runs
`Vocabulary.correct` over a grid of thresholds. Per setting it prints the corrections made, the
right ones (the reference words aligned with the replaced span are the term), the wrong ones, and
the share of expected values found whole in the transcript before and after.

Two kinds of keyterms: "call" (each call's own names, places and product words, from its expected
fields: how a request's keyterms are used) and "company" (every tuning call's terms at once, for
every call: a company-wide VOCABULARY_FILE, where nearly all terms are absent from a given call,
so it shows the false corrections). A run with no keyterms must change nothing.

    .venv/bin/python eval/tune_vocabulary.py [--dump /tmp/h16/dump] [--grid]
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from audiohub.domain import Correction, Transcript
from audiohub.evaluation.normalize import field_found
from audiohub.transcription.correction import DEFAULT_SETTINGS, MatchSettings, key
from audiohub.transcription.vocabulary import Vocabulary

_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "doctor", "dr", "the", "next", "last", "this",
}
_NUMBER_WORDS = re.compile(
    r"^(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|flat)$", re.IGNORECASE)
# Fields whose value is a product word even when written in lower case (drug names).
_PRODUCT_FIELDS = {"medication"}


def keyterms(fields: dict[str, str | None]) -> list[str]:
    """The names, places and product words of a call's expected values: runs of capitalised
    words (not months, weekdays, titles, number words or codes with digits), and drug names."""
    out: list[str] = []
    for name, value in fields.items():
        if not value:
            continue
        if name in _PRODUCT_FIELDS:
            out.append(value.split()[0])
            continue
        run: list[str] = []
        for word in [*value.split(), ""]:
            w = word.strip(",.")
            if (w[:1].isupper() and w.lower() not in _CALENDAR and not _NUMBER_WORDS.match(w)
                    and not any(c.isdigit() for c in w) and len(w) > 1):
                run.append(w)
                continue
            if run:
                out.append(" ".join(run))
            run = []
    return list(dict.fromkeys(out))


@dataclass
class Call:
    id: str
    reference: str
    fields: dict[str, str | None]
    transcript: Transcript


def load(dump: Path, rate: str) -> list[Call]:
    calls = []
    for path in sorted((dump / rate).glob("*.json")):
        d = json.loads(path.read_text())
        calls.append(Call(d["id"], d["reference"], d["fields"],
                          Transcript.model_validate(d["transcript"])))
    return calls


def is_right(c: Correction, before: Transcript, reference: str) -> bool:
    """Whether the reference words aligned with the replaced span (one word of slack each
    side) spell the term."""
    words = before.timed_words()
    hyp = [key(w.text) for w in words]
    ref = [key(w) for w in reference.split()]
    idx = [n for n, w in enumerate(words) if w.start >= c.start - 1e-6 and w.end <= c.end + 1e-6]
    if not idx:
        return False
    lo, hi = len(ref), 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, hyp, ref,
                                                       autojunk=False).get_opcodes():
        if i2 <= idx[0] or i1 > idx[-1]:
            continue
        if tag == "equal":
            lo = min(lo, j1 + max(idx[0] - i1, 0))
            hi = max(hi, j1 + min(idx[-1] - i1, i2 - i1 - 1) + 1)
        else:
            lo, hi = min(lo, j1), max(hi, j2)
    window = "".join(ref[max(lo - 1, 0):hi + 1])
    return key(c.to) in window


@dataclass
class Tally:
    made: int = 0
    right: int = 0
    values: int = 0
    before: int = 0
    after: int = 0
    changed_without_terms: int = 0

    def row(self, label: str) -> str:
        wrong = self.made - self.right
        n = max(self.values, 1)
        return (f"| {label} | {self.made} | {self.right} | {wrong} | "
                f"{self.before / n:.3f} | {self.after / n:.3f} |")


def run(calls: list[Call], settings: MatchSettings, mode: str, company: list[str],
        show: bool = False) -> Tally:
    t = Tally()
    vocab = Vocabulary()
    for call in calls:
        terms = keyterms(call.fields) if mode == "call" else company
        out = vocab.correct(call.transcript, terms, settings)
        for c in out.corrections:
            assert out.text[c.char_start:c.char_end] == c.to
            ok = is_right(c, call.transcript, call.reference)
            t.made += 1
            t.right += ok
            if show:
                print(f"  {'ok ' if ok else 'BAD'} {call.id}: {c.heard!r} -> {c.to!r}")
        for value in (v for v in call.fields.values() if v):
            t.values += 1
            t.before += field_found(value, call.transcript.text)
            t.after += field_found(value, out.text)
        if vocab.correct(call.transcript, [], settings) != call.transcript:
            t.changed_without_terms += 1
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dump", type=Path, default=Path("/tmp/h16/dump"))
    parser.add_argument("--grid", action="store_true", help="the whole grid, not one setting")
    parser.add_argument("--show", action="store_true", help="list each correction")
    args = parser.parse_args()
    for rate in ("16k", "8k"):
        calls = load(args.dump, rate)
        if not calls:
            continue
        company = list(dict.fromkeys(t for c in calls for t in keyterms(c.fields)))
        print(f"\n## {rate}: {len(calls)} calls, {len(company)} company terms")
        print("| setting | made | right | wrong | values found before | after |")
        print("|---|---|---|---|---|---|")
        grid = [DEFAULT_SETTINGS]
        if args.grid:
            # short_term (4, 5, 6) changed nothing here (few terms this short): fixed at 5.
            grid = [replace(DEFAULT_SETTINGS, min_spelling=sp, min_sound=so, max_probability=p)
                    for sp, so, p in itertools.product((70, 75, 80, 85), (0, 70, 80),
                                                       (0.9, 1.01))]
            grid += [replace(DEFAULT_SETTINGS, min_spelling=sp, min_sound=so, max_probability=1.01,
                             phonetic="nysiis")
                     for sp, so in itertools.product((75, 80), (70, 80))]
        for s in grid:
            for mode in ("call", "company"):
                t = run(calls, s, mode, company, args.show and not args.grid)
                label = (f"{mode} spell>={s.min_spelling:g} sound>={s.min_sound:g} "
                         f"p<{s.max_probability:g} short<{s.short_term} {s.phonetic}")
                print(t.row(label) + (f" CHANGED WITHOUT TERMS: {t.changed_without_terms}"
                                      if t.changed_without_terms else ""))


if __name__ == "__main__":
    main()
