"""REDACT_PII_BEFORE_LLM: personal data in the text sent to a remote model is replaced with
typed placeholders ([PERSON_1], [NUMBER_2] ...) and put back in the answer, so the provider
never sees a name, an account number, an email or a phone number from the call."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from audiohub.numberwords import DIGIT_WORD, REPEAT_WORD

_DIGIT_WORD = f"(?:{DIGIT_WORD}|{REPEAT_WORD})"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    # Phone numbers are written in groups ("+1 555 123 4567", "555-0134"); a bare run of
    # digits is a NUMBER below.
    ("PHONE", re.compile(r"(?<![\w+])\+?\(?\d{1,4}\)?(?:[\s.-]\d{2,4}){2,4}\b")),
    # Ids, card and account numbers: runs of digits, or of spoken digits, letters among them.
    ("NUMBER", re.compile(
        rf"\b(?:[A-Z]{{1,3}}[\s-]?)?(?:\d[\d\s-]{{1,}}\d|(?:{_DIGIT_WORD}[\s,-]+){{2,}}"
        rf"{_DIGIT_WORD})\b", re.I)),
]
_PLACEHOLDER = re.compile(r"\[(?:PERSON|EMAIL|PHONE|NUMBER)_\d+\]")

# Finds person names (start, end) in a text; spaCy's NER in practice.
NameFinder = Callable[[str], list[tuple[int, int]]]


@dataclass
class Redacted:
    text: str
    originals: dict[str, str] = field(default_factory=dict)

    def restore(self, value: str) -> str:
        """`value` with every placeholder replaced by what it stood for."""
        return _PLACEHOLDER.sub(lambda m: self.originals.get(m.group(0), m.group(0)), value)


def redact(text: str, find_names: NameFinder | None = None) -> Redacted:
    """Replace personal data in `text`; the same value always gets the same placeholder."""
    spans: list[tuple[int, int, str]] = []
    if find_names is not None:
        spans += [(s, e, "PERSON") for s, e in find_names(text)]
    for kind, pattern in _PATTERNS:
        spans += [(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    # Earliest first; at one position the longest; overlapping later spans are dropped.
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    by_value: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = {}
    out: list[str] = []
    cursor = 0
    result = Redacted(text="")
    for start, end, kind in spans:
        if start < cursor:
            continue
        value = text[start:end]
        key = (kind, value.lower())
        if key not in by_value:
            counts[kind] = counts.get(kind, 0) + 1
            by_value[key] = f"[{kind}_{counts[kind]}]"
            result.originals[by_value[key]] = value
        out += [text[cursor:start], by_value[key]]
        cursor = end
    out.append(text[cursor:])
    result.text = "".join(out)
    return result
