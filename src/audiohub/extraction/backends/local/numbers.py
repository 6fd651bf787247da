"""Spoken ids, amounts and dates as Whisper writes them, and their values.

Callers say ids digit by digit, in pairs ("fifty five, zero one"), with repeats ("double five")
and spelled letters ("B as in bravo"); Whisper writes the same speech in many ways: "5 5 0 1",
"5-5-0-1", "5, 5, 0, 1", "5501", "55,01", "wb6", "B.R.", and even as feet and inches
("5'0\", 1'8\""). It also writes a digit word as a word that sounds like it ("7 free, free, 0",
"WB6 to 748", "KTX for 9 2"); such sound-alikes count only between two digits.
"""

from __future__ import annotations

import re

_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3",
                "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
# Words Whisper writes for a digit word it misheard; read as digits only inside a run.
_SOUNDALIKES = {"free": "3", "tree": "3", "to": "2", "too": "2", "for": "4", "won": "1",
                "ate": "8"}
_TEENS = {w: str(10 + i) for i, w in enumerate(
    ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
     "eighteen", "nineteen"))}
_TENS = {w: str(i + 2) for i, w in enumerate(
    ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"))}
_REPEATS = {"double": 2, "triple": 3}

_DIGIT = "(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_TEN = "(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_TEEN = "(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
# One unit of a spoken id, most specific first.
_UNIT = (
    r"(?:\d{1,2}'\d{1,2}\"?"  # 5'0" (Whisper's feet and inches for "five oh")
    r"|\d{1,3}(?:,\d{3})+(?![.,]?\d)"  # 381,726
    r"|(?!\d+(?:st|nd|rd|th)\b)[A-Za-z]*\d[A-Za-z0-9]*"  # 4567, PL12345, wb6; not 14th
    r"|[A-Z] as in [A-Z][a-z]+"  # B as in Bravo
    r"|(?:[A-Z]\.){1,4}(?![A-Za-z])"  # B.R.
    r"|[A-Z]{1,4}(?![.\w])"  # PL, H K
    rf"|(?i:(?:double|triple)[ -](?:{_DIGIT}|\d)(?!\d))"
    rf"|(?i:{_TEN}(?:[ -]{_DIGIT})?|{_TEEN}|{_DIGIT}))"
)
_SOUNDALIKE = rf"(?i:{'|'.join(_SOUNDALIKES)})"
# Whisper sometimes puts a full stop inside a run of digits: "5 5 0. 1 8 3 7".
_SEP = r"(?:, |[ -]| dash | hyphen |(?<=\d)\. (?=\d))"
# A run of units; sound-alikes may sit between two of them. It never starts after a money sign,
# a decimal point or a time's colon, and never ends before a decimal or a unit sign.
NUMBER_RUN = re.compile(
    rf"(?<![\w$£€.,:/'\"]){_UNIT}(?:{_SEP}(?:{_SOUNDALIKE}{_SEP})*{_UNIT})*(?![\w:/%]|[.,]\d)")
_TOKEN = re.compile(rf"{_UNIT}|{_SOUNDALIKE}")
_SPEECH = frozenset({"I", "A", "ID", "OK", "TV", "OH"})


# Whisper now and then writes a digit string it heard as a decimal ("it ends in 738.9", "it's
# 5.529184"). Four or more digits, with no currency before and no unit after, are an id; a price
# said without its currency ("64.99") and short decimals ("2.5") are not.
DOTTED_ID = re.compile(
    r"(?<![\w$£€.,:/])(\d+)\.(\d+)(?![\w%]|[.,]\d|\s*(?:percent|degrees?|hours?|minutes?"
    r"|seconds?|days?|weeks?|months?|years?|miles?|kilo\w*|meters?|metres?|feet|foot|inch\w*"
    r"|kg|lbs?|pounds?|grams?|ounces?|liters?|litres?|gallons?|dollars?|bucks|euros?|cents"
    r"|million|billion|thousand|mg|milligrams?|ml|gigs?|GB|MB)\b)", re.I)


def dotted_id(match: re.Match[str]) -> str | None:
    """The digits of a `DOTTED_ID` match, or None when it reads as a real decimal: two places
    after the point are a price ("1299.99"), and under four digits a measure ("2.5")."""
    whole, part = match.group(1), match.group(2)
    if len(whole + part) < 4 or len(part) == 2:
        return None
    return whole + part


def number_value(spoken: str) -> str | None:
    """The digits and code letters of a spoken number, joined.

    Args:
        spoken: a `NUMBER_RUN` match, e.g. "4 5 6 7", "four five six seven", "PL 12345",
            "double five 0 1" or "wb6 to 748".

    Returns:
        "4567", "4567", "PL12345", "5501" or "WB62748"; None when too short to be an id (under 3
        digits, or under 5 characters for a code with letters).
    """
    units = [m.group() for m in _TOKEN.finditer(spoken)]
    # "I", "OK" or "oh" at an edge is speech, not code; "A B 7 7" keeps its spelled letters.
    while units and (units[0].lower() == "oh" or units[0].lower() in _SOUNDALIKES
                     or (units[0] in _SPEECH and not _spelled(units[1:2]))):
        units.pop(0)
    while units and (units[-1] in _SPEECH or units[-1].lower() == "oh"
                     or units[-1].lower() in _SOUNDALIKES):
        units.pop()
    value = _said_twice(spoken) or "".join(_unit_value(u) for u in units)
    digits = sum(c.isdigit() for c in value)
    # "5 to 7 business days" is a range, not the id "527": a sound-alike needs a long id.
    if any(u.lower() in _SOUNDALIKES for u in units) and len(value) < 5:
        return None
    return value if digits >= 3 or (digits and len(value) >= 5) else None


def _said_twice(spoken: str) -> str | None:
    """The id of a run that says it twice, as callers and agents confirm one ("HM72518,
    HM72518"): the two halves are split by a comma or a full stop, or by a space when Whisper
    wrote each half as one word ("QB80506 QB80506"). "1 2 3 1 2 3", said in one go, is the id
    123123."""
    for sep in re.finditer(r"[,.]?\s+", spoken):
        head = [m.group() for m in _TOKEN.finditer(spoken[:sep.start()])]
        if not sep.group().strip(" ") and not any(len(u) >= 3 for u in head):
            continue
        first = "".join(_unit_value(u) for u in head)
        second = "".join(_unit_value(m.group()) for m in _TOKEN.finditer(spoken[sep.end():]))
        if len(first) >= 3 and first == second:
            return first
    return None


def _unit_value(unit: str) -> str:
    low = unit.lower()
    words = re.split(r"[ -]", low)
    if words[0] in _REPEATS:
        return _DIGIT_WORDS.get(words[1], words[1]) * _REPEATS[words[0]]
    if words[0] in _TENS:  # "forty four" -> 44, "forty" -> 40
        return _TENS[words[0]] + (_DIGIT_WORDS[words[1]] if len(words) > 1 else "0")
    if low in _TEENS:
        return _TEENS[low]
    if low in _DIGIT_WORDS:
        return _DIGIT_WORDS[low]
    if low in _SOUNDALIKES:
        return _SOUNDALIKES[low]
    if " as in " in unit:
        return unit[0]
    return re.sub(r"[^A-Za-z0-9]", "", unit).upper()


def _spelled(units: list[str]) -> bool:
    return bool(units) and len(units[0]) == 1 and units[0].isalpha()


# "$200 and $12", "200 and 12 dollars": Whisper's way of writing "two hundred and twelve".
COMPOUND_MONEY = re.compile(
    r"\$?(\d{1,3})00\s+and\s+\$?(\d{1,2})(?!\d|[.,]\d)(?:\s+dollars\b)?")


def money_value(said: str) -> str:
    """An amount as said, or "$212" where Whisper split "two hundred and twelve" in two."""
    m = COMPOUND_MONEY.fullmatch(said.strip())
    if m and ("$" in said or "dollar" in said.lower()):
        return f"${int(m.group(1)) * 100 + int(m.group(2))}"
    return said


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_ORDINAL_WORDS = (r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh"
                  r"|twelfth|\w+teenth|twentieth|thirtieth")
_ORDINAL = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)|(?:(?:twenty|thirty|\d0)[ -])?(?:{_ORDINAL_WORDS})"
            r"|\d{1,2}(?= (?:of|on) ))")
_PART = r"(?:morning|afternoon|evening|night)"
# Dates spaCy misses or cuts short: "first of April", "the 22nd on August" (Whisper's "of"),
# "November 12, 1982", "Thursday, March 3rd", "the following Monday", "Monday morning", "the 10th".
SPOKEN_DATE = re.compile(
    rf"\b(?:(?:{_WEEKDAYS}),?\s+)?{_ORDINAL}\s+(?:of|on|or)\s+(?:{_MONTHS})"
    rf"(?:,?\s+\d{{4}})?\b"
    rf"|\b(?:(?:{_WEEKDAYS}),?\s+)?(?:{_MONTHS})\s+(?:the\s+)?(?:{_ORDINAL}|\d{{1,2}})\b"
    rf"(?:,?\s+\d{{4}})?"
    # A day of the month alone: "change it to the 10th", "Monday the 17th".
    rf"|\b(?:(?:{_WEEKDAYS}),?\s+)?the\s+\d{{1,2}}(?:st|nd|rd|th)\b(?!\s+(?:of|on|or)\s)"
    rf"|\b(?:(?:next|this|last|coming|following|the following)\s+)?(?:{_WEEKDAYS})"
    rf"(?:\s+{_PART})?\b"
    rf"|\b(?:tomorrow|today|yesterday)(?:\s+{_PART})?\b", re.I)
# Dates that name no day: "my move in May", "next month", "the weekend".
VAGUE_DATE = re.compile(rf"(?:{_MONTHS})|(?:(?:next|this|last|the|that)\s+)?(?:month|week|year"
                        r"|weekend)", re.I)
_ORDINAL_VALUES = {w: i + 1 for i, w in enumerate(
    ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"))}


def date_value(said: str) -> str:
    """A date as said, less two ways Whisper mishears it: "the 22nd on August" (for "of") and
    "20 second" (for "twenty second")."""
    def tens(m: re.Match[str]) -> str:
        n = int(m.group(1)) + _ORDINAL_VALUES[m.group(2).lower()]
        return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"

    value = re.sub(r"\b([23]0)[ -](first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b",
                   tens, said, flags=re.I)
    return re.sub(rf"(\d(?:st|nd|rd|th)?|{_ORDINAL_WORDS})\s+(?:on|or)\s+(?=(?:{_MONTHS})\b)",
                  r"\1 of ", value, flags=re.I)
