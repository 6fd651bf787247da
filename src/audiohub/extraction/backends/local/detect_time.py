"""Detectors for dates and times, as said: "the twenty second of May", "Monday the 17th", "next
Tuesday", "half past four", "four thirty p m", "eleven fifteen".

A value is the span as said (the evaluation and the people reading it compare text), less a
leading "on", "at" or "the". Dates come from spaCy's DATE entities (call.doc) and the spoken forms
below, built from audiohub.numberwords; a vague date ("next month", "in May") is proposed less
sure, and a duration ("for two weeks") is not a date.
"""

from __future__ import annotations

import re

from audiohub.extraction.backends.local.call import CallView, Candidate, Detector
from audiohub.fieldspec import FieldKind, FieldSpec
from audiohub.numberwords import (
    DIGIT_WORD,
    MONTH,
    NUMBER_WORD,
    ORDINAL,
    TEEN_WORD,
    TENS_WORD,
    UNIT_WORDS,
    WEEKDAY,
    join_split_ordinals,
)

Span = tuple[int, int]

_PART = r"(?:morning|afternoon|evening|night)"
_RELATIVE = r"(?:next|this|last|coming|the following|following)"
# A year said after a date: "1982", "nineteen eighty two", "two thousand and five".
_YEAR = (rf"(?:\d{{4}}|(?:nineteen|twenty)[\s-]+(?:{TENS_WORD}(?:[\s-]+{DIGIT_WORD})?|{TEEN_WORD}"
         rf"|oh[\s-]+{DIGIT_WORD})|two thousand(?:\s+and)?(?:[\s-]+{NUMBER_WORD}){{0,2}})")
_WEEKDAY = rf"(?:{_RELATIVE}\s+)?{WEEKDAY}"
_ON_DAY = rf"(?:{_WEEKDAY},?\s+)?"
# Whisper hears "the 22nd of August" as "the 22nd on August" or "the 22nd or August".
_OF = r"(?:of|on|or)"
_DATES: list[tuple[re.Pattern[str], float]] = [(re.compile(p, re.I), q) for p, q in (
    (rf"\b{_ON_DAY}(?:the\s+)?{ORDINAL}\s+{_OF}\s+{MONTH}(?:,?\s+{_YEAR})?\b", 0.9),
    (rf"\b{_ON_DAY}{MONTH}\s+(?:the\s+)?(?:{ORDINAL}|\d{{1,2}})\b(?:,?\s+{_YEAR}\b)?", 0.9),
    (rf"\b{_WEEKDAY},?\s+the\s+{ORDINAL}\b", 0.9),
    (r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b", 0.8),
    (rf"\b{_WEEKDAY}(?:\s+{_PART})?\b", 0.8),
    (rf"\b(?:today|tomorrow|yesterday|tonight|this\s+{_PART})(?:\s+{_PART})?\b", 0.8),
    (r"\b(?:the\s+day\s+after\s+tomorrow)\b", 0.8),
    (rf"\bthe\s+{ORDINAL}\b(?!\s+{_OF}\s)", 0.6),
    # Vague: a month, a week, a year; "the month" alone ("in the second half of the month") is
    # none.
    (rf"\b(?:(?:{_RELATIVE}|the\s+end\s+of(?:\s+the)?)\s+(?:week|month|year)|weekend)\b", 0.35),
    (rf"\b(?:{_RELATIVE}\s+|early\s+|late\s+|mid-?\s*)?{MONTH}(?:\s+\d{{4}})?\b", 0.4),
)]
_DATE_WORD = re.compile(rf"\b(?:{MONTH}|{WEEKDAY}|today|tomorrow|yesterday|tonight|weekend"
                        rf"|ago|{ORDINAL}|\d{{1,2}}/\d{{1,2}}|\d{{4}})\b", re.I)
_ABOUT = r"(?:about|around|almost|nearly|over|just|roughly|the past|the last|less than|more than)"
# "for two weeks", "about a month", "3 days": how long, not when.
_DURATION = re.compile(rf"^(?:for\s+)?(?:{_ABOUT}\s+)?(?:a|an|one|a few|a couple of|several|\d+"
                       rf"|{NUMBER_WORD}(?:[\s-]+{NUMBER_WORD})*)\s+(?:days?|weeks?|months?"
                       r"|years?|hours?|minutes?)(?!\s+ago)\b", re.I)
# A lower-case "may" or "march" is a verb far more often than a month.
_VERB_MONTH = re.compile(r"^(?:may|march)$")
# A full stop after the span is the sentence's, unless it ends "p.m.".
_END = re.compile(r"(?<![ap]\.m)[\s,.]+$", re.I)
_LEAD = re.compile(r"^(?:(?:on|at|the|by|for|around)\s+)+", re.I)
_BARE_ORDINAL = re.compile(rf"the\s+{ORDINAL}", re.I)
_THE = re.compile(r"\bthe\s+$", re.I)
# The "on" or "or" Whisper writes for the "of" between a day and its month, reported as "of".
_MISHEARD_OF = re.compile(rf"(?<=st|nd|rd|th)\s+(?:on|or)\s+(?={MONTH}\b)", re.I)

_HOUR = "(?:" + "|".join(UNIT_WORDS[1:13]) + ")"
_MINUTES = rf"(?:oh[\s-]+{DIGIT_WORD}|{TEEN_WORD}|{TENS_WORD}(?:[\s-]+{DIGIT_WORD})?)"
_MERIDIEM = r"(?:[ap]\.\s?m\.|[ap]\.?\s?m\b|o'clock\b|in\s+the\s+(?:morning|afternoon|evening))"
_TIMES: list[tuple[re.Pattern[str], float]] = [(re.compile(p, re.I), q) for p, q in (
    # "3 p.m.", "4.30 pm", "430 p.m." (Whisper's "four thirty p m"), "10:40 am".
    (rf"\b(?:\d{{1,2}}(?:[:.]\d{{2}})?|\d{{3,4}})\s?{_MERIDIEM}", 0.9),
    (rf"\b{_HOUR}(?:[\s-]+{_MINUTES})?\s?{_MERIDIEM}", 0.9),
    (rf"\b(?:half|quarter|{_MINUTES}|\d{{1,2}})\s+(?:minutes\s+)?(?:past|to|after)\s+"
     rf"(?:{_HOUR}|1[0-2]|[1-9])(?:\s?{_MERIDIEM}|\b(?!\s+(?:\w+\s+)?(?:days?|weeks?|months?"
     r"|years?|hours?|minutes?|business|working|people|times)\b))", 0.9),
    # British "half eleven" (half past eleven), not "half an hour" nor "half of".
    (rf"\bhalf\s+(?:{_HOUR}|1[0-2]|[1-9])\b(?!\s+(?:\w+\s+)?(?:days?|weeks?|months?|years?"
     r"|hours?|minutes?|people|times|of)\b)", 0.8),
    # A window: "between eight and ten", "from nine till eleven a m".
    (rf"\b(?:between|from)\s+(?:{_HOUR}|1[0-2]|[1-9])(?:[\s-]+{_MINUTES})?(?:\s?{_MERIDIEM})?"
     rf"\s+(?:and|to|till|until)\s+(?:{_HOUR}|1[0-2]|[1-9])(?:[\s-]+{_MINUTES})?"
     rf"(?:\s?{_MERIDIEM})?\b(?!\s+(?:\w+\s+)?(?:days?|weeks?|months?|years?|hours?|minutes?"
     r"|people|times|percent)\b)", 0.95),
    (r"\b(?:noon|midday|midnight)\b", 0.8),
    (r"\b(?:[01]?\d|2[0-3]):[0-5]\d\b", 0.8),
    (r"(?<=\bat )(?:[01]?\d|2[0-3])\.[0-5]\d\b", 0.7),
    # "at eleven fifteen", "at four": a clock time without am/pm, sure only after "at".
    (rf"(?<=\bat\s){_HOUR}(?:[\s-]+{_MINUTES})?\b", 0.6),
    (rf"\b{_HOUR}[\s-]+(?:{TENS_WORD}(?:[\s-]+{DIGIT_WORD})?|fifteen|oh[\s-]+{DIGIT_WORD})\b",
     0.35),
    (rf"\b(?:in\s+the\s+)?{_PART}\b", 0.25),
)]


def _overlaps(a: Span, spans: list[Span]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _collect(text: str, found: list[tuple[Span, float]], kind: FieldKind) -> list[Candidate]:
    """Surest first, then longest; a span overlapping one kept is dropped; the value loses a
    leading "on/at/the"."""
    kept: list[Candidate] = []
    for (start, end), quality in sorted(found, key=lambda f: (-f[1], f[0][0] - f[0][1])):
        said = _END.sub("", text[start:end])
        lead = _LEAD.match(said)
        if lead and lead.end() < len(said):
            cut = lead.end()
            # "the 9th" said alone is a day of the month: its "the" stays.
            the = _THE.search(said, 0, cut)
            if the and re.fullmatch(ORDINAL, said[cut:], re.I):
                cut = the.start()
            start, said = start + cut, said[cut:]
        if said and not _overlaps((start, start + len(said)), [(c.start, c.end) for c in kept]):
            value = said if kind != "date" else join_split_ordinals(_MISHEARD_OF.sub(" of ", said))
            kept.append(Candidate(start, start + len(said), value, kind, quality))
    return sorted(kept, key=lambda c: c.start)


def clock_times(call: CallView) -> list[Candidate]:
    """Every clock time said in the call, read once per call."""
    found: list[Candidate] | None = call.memo.get("time.times")
    if found is None:
        spans = [(m.span(), q) for p, q in _TIMES for m in p.finditer(call.text)]
        said = [span for span, _ in spans]
        # spaCy's times only where no pattern found one: its spans run on ("May at half past
        # four") and it takes digit ids for times.
        spans += [((e.start_char, e.end_char), 0.5) for e in call.doc.ents if e.label_ == "TIME"
                  and not _DURATION.match(e.text) and not _overlaps((e.start_char, e.end_char),
                                                                    said)]
        found = call.memo["time.times"] = _collect(call.text, spans, "time")
    return found


def dates(call: CallView) -> list[Candidate]:
    """Every date said in the call, read once per call: no clock time, amount or duration."""
    found: list[Candidate] | None = call.memo.get("time.dates")
    if found is not None:
        return found
    text = call.text
    times = [(c.start, c.end) for c in clock_times(call) if c.quality >= 0.6]
    spans: list[tuple[Span, float]] = []
    for pattern, quality in _DATES:
        for m in pattern.finditer(text):
            if _VERB_MONTH.match(m.group()) or _overlaps(m.span(), times) or (
                    _BARE_ORDINAL.fullmatch(m.group()) and _counts_a_thing(call, m.end())):
                continue
            spans.append((m.span(), quality))
    said = [span for span, _ in spans]
    # spaCy's dates where no pattern found one ("two days ago", "the 3rd"), less clock times.
    for ent in call.doc.ents:
        word = _DATE_WORD.search(ent.text)
        if ent.label_ != "DATE" or _DURATION.match(ent.text) or not word or (
                re.fullmatch(ORDINAL, word.group(), re.I)
                and _counts_a_thing(call, ent.start_char + word.end())):
            continue
        span = _cut(ent.start_char, ent.end_char, times)
        if span and not _overlaps(span, said):  # a number alone ("1999") is a year at most
            spans.append((span, 0.3 if ent.text.isdigit() else 0.5))
    found = call.memo["time.dates"] = _collect(text, spans, "date")
    return found


def _counts_a_thing(call: CallView, end: int) -> bool:
    """Whether the ordinal ending at `end` counts a thing ("the second half", "the first time")
    rather than naming a day: a noun follows it."""
    after = next((t for t in call.doc if t.idx >= end), None)
    return after is not None and after.idx - end <= 1 and after.pos_ == "NOUN"


def _cut(start: int, end: int, times: list[Span]) -> Span | None:
    """A spaCy date less a clock time inside it: "Tuesday at 3 pm" is "Tuesday"."""
    for s, e in times:
        if start < e and s < end:
            if s > start:
                end = s
            else:
                start = e
    return (start, end) if end > start else None


def detect_date(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Dates as said: "the twenty second of May", "Monday the 17th", "next Tuesday", "March 3rd,
    1982"; weekdays alone a little less sure, a month or "next week" much less."""
    return list(dates(call))


def detect_time(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Clock times as said: "half past four", "four thirty p m", "10:40 am", "noon"; "eleven
    fifteen" without am/pm less sure, more so when no "at" comes before it."""
    return list(clock_times(call))


DETECTORS: dict[FieldKind, Detector] = {"date": detect_date, "time": detect_time}
