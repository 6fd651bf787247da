"""Every value tied to where it was said, or marked as not found: never silently presented as
something the call contains.

Backends give evidence with their values (the local analyzer always; an LLM may or may not).
Here each one is checked against the transcript; a missing or wrong one is looked up again; a
value that cannot be found keeps `grounded: false` and no offsets.
"""

from __future__ import annotations

import re

from audiohub.domain import Evidence, TimedWord, Transcript

_SEPARATORS = r"[\s,.\-]*"


def locate(text: str, value: str) -> tuple[int, int] | None:
    """Where `value` stands in `text`: verbatim (any case), or for ids and numbers with the
    separators Whisper writes between spoken digits ("4567" in "4, 5, 6, 7")."""
    value = value.strip()
    if not value:
        return None
    # Whole words only: "45" is not said inside "12345".
    lead = r"(?<!\w)" if value[0].isalnum() else ""
    tail = r"(?!\w)" if value[-1].isalnum() else ""
    m = re.search(lead + re.escape(value) + tail, text, re.I)
    if m:
        return m.start(), m.end()
    chars = re.sub(r"[^0-9A-Za-z]", "", value)
    if len(chars) >= 3 and any(c.isdigit() for c in chars):
        pattern = _SEPARATORS.join(re.escape(c) for c in chars)
        m = re.search(rf"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])", text, re.I)
        if m:
            return m.start(), m.end()
    return None


def _times(words: list[TimedWord], start: int, end: int) -> tuple[float | None, float | None]:
    inside = [w for w in words if w.char_start < end and w.char_end > start]
    if not inside:
        return None, None
    return inside[0].start, inside[-1].end


def ground(
    transcript: Transcript, data: dict[str, str | None], evidence: dict[str, Evidence]
) -> dict[str, Evidence]:
    """Evidence for every non-null value of `data`, checked against `transcript.text`."""
    text = transcript.text
    words = transcript.timed_words()
    out: dict[str, Evidence] = {}
    for field, value in data.items():
        if value is None:
            continue
        ev = evidence.get(field)
        span: tuple[int, int] | None = None
        if ev is not None and ev.char_start is not None and ev.char_end is not None \
                and 0 <= ev.char_start < ev.char_end <= len(text) \
                and text[ev.char_start:ev.char_end] == ev.text:
            span = ev.char_start, ev.char_end
        else:
            span = locate(text, value)
        if span is None:
            out[field] = Evidence(text=value, char_start=None, char_end=None, start_s=None,
                                  end_s=None, grounded=False)
            continue
        start_s, end_s = _times(words, *span)
        out[field] = Evidence(text=text[span[0]:span[1]], char_start=span[0], char_end=span[1],
                              start_s=start_s, end_s=end_s)
    return out
