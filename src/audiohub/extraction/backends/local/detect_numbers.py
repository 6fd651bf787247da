"""Detectors for values made of numbers: codes, digit strings, phone numbers, money, quantities,
and email addresses (said as "jane dot doe at gmail dot com").

Whisper writes the same spoken id many ways: "4 5 6 7", "four five six seven", "45 67", "4, 5, 6,
7", "double 7", "PL 12345", "P L one two". The call is read once into *runs*: the longest stretches
of digits, number words and spelled capitals with nothing but spaces, commas, dashes or brackets
between them (call.memo). Each detector then picks the runs that fit its kind and the field's
`length`/`shape`. Phone numbers are validated and formatted by Google's libphonenumber
(`phonenumbers`); number words are read by audiohub.numberwords (text2num).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby, pairwise

from audiohub.extraction.backends.local.call import CallView, Candidate, Detector
from audiohub.fieldspec import FieldKind, FieldSpec
from audiohub.numberwords import (
    DIGIT_WORD,
    NUMBER_WORD,
    REPEAT_WORDS,
    SCALE_WORDS,
    number_value,
    spoken_digits,
)

# Regions whose national numbering a phone number said without "+" is tried in, in order.
PHONE_REGIONS = ("US", "GB", "CA", "AU", "IE")

# A hyphen splits tokens: Whisper writes a code said in pieces as "VH47229-0" or "TR6-0-0-412".
_TOKEN = re.compile(r"\+?\w+(?:['.,:@/]\w+)*")
# What may stand between two pieces of one spoken number: never a full stop or a question mark.
_GAP = re.compile(r"[\s,()\-]*|\s+(?:dash|hyphen)\s+", re.I)
_DIGITS = re.compile(r"\d+|\d{1,3}(?:,\d{3})+")
_CODE = re.compile(r"(?!\d+(?:st|nd|rd|th)$)[A-Za-z]*\d[A-Za-z\d]*")
# "5.529184", "3.0.8": digits Whisper wrote with points. Two places after one point are a price.
_DOTTED = re.compile(r"(?!\d+\.\d\d$)\d+(?:\.\d+)+")
_LETTERS = re.compile(r"[A-Z]{1,3}")
_SPELLED = re.compile(r"\s+as\s+in\s+[A-Z][a-z]+")  # "B as in Bravo"
_NUMBER_WORD = re.compile(NUMBER_WORD, re.I)
_CURRENCY_WORDS = {"dollar": "$", "dollars": "$", "bucks": "$", "buck": "$", "cents": "$",
                   "cent": "$", "euro": "€", "euros": "€", "pound": "£", "pounds": "£"}


@dataclass(frozen=True)
class Run:
    """One spoken number or code: `text[start:end]`, its value ("PL12345", "4567"), whether it
    holds letters, and whether it is a counted amount ("one hundred and twelve") rather than
    digits said one by one."""

    start: int
    end: int
    value: str
    letters: bool
    amount: bool
    plus: bool


def number_runs(call: CallView) -> list[Run]:
    """Every spoken number and code of the call, read once per call."""
    runs: list[Run] | None = call.memo.get("numbers.runs")
    if runs is None:
        runs = call.memo["numbers.runs"] = _read_runs(call.text)
    return runs


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    text: str
    kind: str  # digits, code, word, oh, repeat, and, letters, spelled


def _kind(token: str, after: str) -> str | None:
    """The class of one token, or None when it is no part of a number."""
    low = token.lower()
    if _DIGITS.fullmatch(token.lstrip("+")) or (
            _DOTTED.fullmatch(token) and (token.count(".") > 1 or len(token) > 4)):
        return "digits"
    if _CODE.fullmatch(token):
        return "code"
    if _NUMBER_WORD.fullmatch(low):
        return "word"
    if low in ("oh", "and"):
        return low
    if low in REPEAT_WORDS and re.match(rf"[\s-]+(?:{DIGIT_WORD}|\d)\b", after, re.I):
        return "repeat"
    if _LETTERS.fullmatch(token) and (token != "I" or after.startswith("-")):  # "W-I-1"
        return "letters"
    return None


def _read_runs(text: str) -> list[Run]:
    runs: list[Run] = []
    current: list[_Piece] = []
    pos = 0
    while (m := _TOKEN.search(text, pos)) is not None:
        start, end, kind = m.start(), m.end(), _kind(m.group(), text[m.end():m.end() + 12])
        if kind == "letters" and len(m.group()) == 1 and (sp := _SPELLED.match(text, end)):
            kind, end = "spelled", sp.end()
        pos = end
        joined = bool(current) and _GAP.fullmatch(text[current[-1].end:start]) is not None
        if kind is None or not joined:
            runs += _close(text, current)
            current = []
        if kind is not None:
            current.append(_Piece(start, end, text[start:end], kind))
    return runs + _close(text, current)


def _close(text: str, pieces: list[_Piece]) -> list[Run]:
    """A run from its pieces, less what cannot be part of a number at its edges: "oh" and "and"
    (speech: "oh, 4 5"; a leading "oh" before four more digits, or one right after a digit word, is
    a zero), trailing capitals ("4 5 6 7 OK"), a scale word alone ("hundreds")."""
    while pieces and pieces[-1].kind in ("oh", "and", "repeat", "letters"):
        if pieces[-1].kind == "oh" and len(pieces) > 1 and pieces[-2].kind == "word" \
                and text[pieces[-2].end:pieces[-1].start].isspace():
            break  # "... six three oh": a last digit, zero
        pieces = pieces[:-1]
    while pieces and (pieces[0].kind in ("oh", "and")
                      or (pieces[0].kind == "word" and pieces[0].text.lower() in SCALE_WORDS)):
        # "oh seven seven one two ..." starts with a zero (a British number, a code); "oh, 4
        # 5" starts with a word of speech.
        if pieces[0].kind == "oh" and len(pieces) > 4 and text[pieces[0].end:pieces[1].start] \
                .isspace() and all(p.kind in ("word", "digits", "oh") for p in pieces[1:5]):
            break
        pieces = pieces[1:]
    if not any(p.kind in ("digits", "code", "word") for p in pieces):
        return []
    value = _value(text, pieces)
    # A value said twice to confirm it ("HM72518, HM72518", "TR6-0-12 TR6-0-12"): the halves
    # meet at a comma or at a gap unlike those inside them.
    gaps = [text[a.end:b.start] for a, b in pairwise(pieces)]
    for k in range(1, len(pieces)):
        if "," in gaps[k - 1] or gaps[k - 1] not in gaps[:k - 1] + gaps[k:]:
            head, tail = _value(text, pieces[:k]), _value(text, pieces[k:])
            if len(head) >= 3 and head == tail:
                value = head
    amount = any(p.kind == "word" and p.text.lower() in SCALE_WORDS for p in pieces)
    return [Run(pieces[0].start, pieces[-1].end, value, any(c.isalpha() for c in value),
                amount, pieces[0].text.startswith("+"))]


def _value(text: str, pieces: list[_Piece]) -> str:
    """Letters upper-cased, numbers as numberwords reads them together ("forty five" is 45,
    "double 7" 77), with the commas between them ("eight hundred, five five five")."""
    out: list[str] = []
    for said, group in groupby(pieces, key=lambda p: p.kind not in ("letters", "code", "spelled")):
        g = list(group)
        out += [spoken_digits(text[g[0].start:g[-1].end])] if said else [
            p.text[0] if p.kind == "spelled" else re.sub(r"\W", "", p.text).upper() for p in g]
    return "".join(out)


def _currency_near(text: str, run: Run) -> bool:
    """A money amount: a currency sign before the run or a currency word after it."""
    before = text[max(0, run.start - 2):run.start]
    after = re.match(r"\s*(\w+)", text[run.end:run.end + 12])
    return any(c in before for c in "$£€") or bool(
        after and after.group(1).lower() in _CURRENCY_WORDS)


def _fit(value: str, field: FieldSpec) -> float | None:
    """How well a value fits the field's shape or length: 1 fits, None cannot be it."""
    if field.shape:
        shape = "".join("A" if c.isalpha() else "9" for c in value)
        return 1.0 if shape == re.sub(r"[^A9]", "", field.shape) else None
    if field.length:
        return 1.0 if len(value) == field.length else None
    return 0.7


def _shaped(value: str, shape: str | None) -> str:
    """The value laid out as the shape writes it: "PL1234" with "AA-9999" is "PL-1234"."""
    if not shape:
        return value
    chars = iter(value)
    return "".join(next(chars) if c in "A9" else c for c in shape)


def detect_code(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Ids said in letters and digits ("PL 12345", "four five six seven", "B as in Bravo 7 7").

    A value of the field's `shape` or `length` is sure; without either, one with letters and
    digits is likelier an id than digits alone, one of three or four digits or a counted amount
    ("one hundred and twelve") unlikely, and one of one or two digits none.
    """
    out: list[Candidate] = []
    for run in number_runs(call):
        if _currency_near(call.text, run) or len(run.value) < 3:
            continue
        fit = _fit(run.value, field)
        if fit is None:
            continue
        quality = fit * (0.5 if run.amount else 1.0)
        if fit < 1:  # the field does not size its ids: letters make one likely, few digits not
            quality = 0.85 if run.letters else quality * (0.5 if len(run.value) < 5 else 1.0)
        out.append(Candidate(run.start, run.end, _shaped(run.value, field.shape), "code",
                             round(quality, 2)))
    return out


def detect_digits(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Digit strings as said ("4 5 6 7", "double five oh one"), `field.length` of them when the
    field says how many (3 or more when it does not)."""
    out: list[Candidate] = []
    for run in number_runs(call):
        if run.letters or _currency_near(call.text, run):
            continue
        if field.length is not None:
            if len(run.value) != field.length:
                continue
            quality = 0.95
        elif len(run.value) >= 3:
            quality = 0.4 if run.amount else 0.7
        else:
            continue
        out.append(Candidate(run.start, run.end, run.value, "digits", quality))
    return out


def detect_phone(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Phone numbers said as digits or words, checked and written by libphonenumber: with the
    country code when it was said ("+44 20 7946 0958"), else in the format of the first region
    (PHONE_REGIONS) where the digits said are a valid number ("(415) 555 0100", "07822 419630");
    a local seven-digit number ("555 0134") is kept, less sure."""
    import phonenumbers  # 55 ms to import: only calls that look for a phone pay for it

    out: list[Candidate] = []
    for run in number_runs(call):
        digits = run.value
        # "eight hundred, five five five ..." is a phone number; "three hundred" is not.
        if run.letters or (run.amount and len(digits) < 10) or not 7 <= len(digits) <= 15:
            continue
        found = None
        for region in (None,) if run.plus else PHONE_REGIONS:
            try:
                number = phonenumbers.parse(("+" if run.plus else "") + digits, region)
            except phonenumbers.NumberParseException:
                continue
            # Every digit said is kept: a national number's leading digits are the region's
            # trunk prefix ("07712 ..." is British, not an American number less its "0").
            lead = digits[:len(digits) - len(phonenumbers.national_significant_number(number))]
            if phonenumbers.is_valid_number(number) and (run.plus or lead in (
                    "", _trunk_prefix(region))):
                found = number
                break
        if found is not None:
            # As said: with its country code when one was said, else as its country writes it.
            style = phonenumbers.PhoneNumberFormat
            value = phonenumbers.format_number(
                found, style.INTERNATIONAL if run.plus else style.NATIONAL)
            out.append(Candidate(run.start, run.end, value.replace("-", " "), "phone", 0.9))
        elif len(digits) == 7:
            out.append(Candidate(run.start, run.end, f"{digits[:3]} {digits[3:]}", "phone", 0.5))
    return out


def _trunk_prefix(region: str | None) -> str:
    """The digits said before a national number in `region` ("0" in Britain, "1" in the US)."""
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(region or "")
    return str(meta.national_prefix or "") if meta is not None else ""


_FIGURE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?"
_AMOUNT_WORDS = rf"(?:a\s+)?{NUMBER_WORD}(?:[\s-]+(?:and\s+)?{NUMBER_WORD})*"
_CURRENCY = r"(?:dollars?|bucks?|euros?|pounds?|cents?)"
# "$49.99", "49 dollars", "forty nine dollars", "200 and 12 dollars" (Whisper's "two hundred and
# twelve dollars"); the cents or the split-off tens are read after it.
_MONEY = re.compile(
    rf"(?P<sign>[$£€])\s?(?P<fig>{_FIGURE})(?!\d)"
    rf"|\b(?P<said>{_FIGURE}|{_AMOUNT_WORDS})(?:\s+and\s+(?P<add>\d{{1,2}}))?\s+(?P<cur>{_CURRENCY})\b",
    re.I)
_CENTS = re.compile(rf",?\s+and\s+(\d{{1,2}}|{_AMOUNT_WORDS})\s+cents?\b", re.I)
# "ninety-seven pounds forty", "two euros fifty p": the pence or cents said after the unit, at
# the end of the phrase.
_MINOR = re.compile(rf"\s+(\d{{1,2}}|{_AMOUNT_WORDS})(?=\s*(?:[.,;!?]|$)|\s+(?:p|pence)\b)",
                    re.I)
_TENS_ADDED = re.compile(r"\s+and\s+[$£€]?(\d{1,2})(?![\d.,]\d)(?:\s+(?:dollars?|bucks?|euros?"
                         r"|pounds?)\b)?", re.I)
# Two decimal places and no currency: a price ("I paid 89.99"), unless a clock time ("at 11.15").
_PRICE = re.compile(r"(?<![\w$£€.,:])(?<!\bat )\d{1,5}\.\d{2}"
                    r"(?![.,]?\d|\s*(?:%|percent|[ap]\.?\s?m\b))", re.I)


def _amount(text: str) -> Decimal | None:
    text = text.replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return Decimal(text)
    n = number_value(text)
    return None if n is None else Decimal(n)


def _money_value(sign: str, amount: Decimal) -> str:
    return f"{sign}{amount:.2f}" if amount % 1 else f"{sign}{int(amount)}"


def _call_currency(text: str) -> str:
    """The currency a call talks in, for a price said without one: "$" unless it says pounds or
    euros."""
    for sign, word in (("£", "pound"), ("€", "euro")):
        if sign in text or re.search(rf"\b{word}s?\b", text, re.I):
            return sign
    return "$"


def detect_money(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Amounts: "$49.99", "forty nine dollars and ninety nine cents", "$200 and $12" ($212),
    and, less sure, a price said without its currency ("89.99"); read once per call."""
    found: list[Candidate] | None = call.memo.get("numbers.money")
    if found is not None:
        return list(found)
    text, found, end = call.text, [], 0
    while (m := _MONEY.search(text, end)) is not None:
        end = m.end()
        amount = _amount(m.group("fig") or m.group("said"))
        if amount is None:
            continue
        cur = (m.group("cur") or "").lower()
        sign = m.group("sign") or _CURRENCY_WORDS.get(cur, "$")
        if cur.startswith("cent"):
            amount /= 100
        elif m.group("add") and amount % 100 == 0:
            amount += int(m.group("add"))
        elif (tail := _CENTS.match(text, end)) and (cents := _amount(tail.group(1))) is not None:
            amount, end = amount + cents / 100, tail.end()
        elif cur and amount % 1 == 0 and (tail := _MINOR.match(text, end)) and (
                minor := _amount(tail.group(1))) is not None and minor < 100:
            amount, end = amount + minor / 100, tail.end(1)
        elif m.group("sign") and amount % 100 == 0 and (tail := _TENS_ADDED.match(text, end)):
            amount, end = amount + int(tail.group(1)), tail.end()
        found.append(Candidate(m.start(), end, _money_value(sign, amount), "money", 0.9))
    sign = _call_currency(text)
    for m in _PRICE.finditer(text):
        if not any(c.start < m.end() and m.start() < c.end for c in found):
            found.append(Candidate(m.start(), m.end(), _money_value(sign, Decimal(m.group())),
                                   "money", 0.5))
    call.memo["numbers.money"] = found
    return list(found)


_NOT_COUNTED = {"am", "pm", "a.m.", "p.m.", "o'clock", "percent", *_CURRENCY_WORDS}


def detect_quantity(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Counted things: a number and the noun it counts, as spaCy parses them ("two boxes", "3
    nights", "a hundred units"), value "2 boxes"; less sure, a number said alone ("three")."""
    out: list[Candidate] = []
    counted: list[tuple[int, int]] = []
    for tok in call.doc:
        head = tok.head
        if tok.dep_ != "nummod" or head.pos_ not in ("NOUN", "PROPN"):
            continue
        if head.lower_ in _NOT_COUNTED or not 0 < head.i - tok.i <= 3:
            continue
        first = tok
        while first.i > 0 and first.nbor(-1).dep_ in ("nummod", "compound", "quantmod") \
                and (first.nbor(-1).like_num or first.nbor(-1).lower_ in ("a", "and")):
            first = first.nbor(-1)
        n = number_value(call.text[first.idx:tok.idx + len(tok)])
        if n is None:
            continue
        start, end = first.idx, head.idx + len(head)
        rest = call.text[tok.idx + len(tok):end].strip()
        out.append(Candidate(start, end, f"{n} {rest}", "quantity", 0.8))
        counted.append((start, end))
    for run in number_runs(call):
        n = number_value(call.text[run.start:run.end])
        if n is None or run.letters or _currency_near(call.text, run) or n >= 10_000:
            continue
        if not any(s < run.end and run.start < e for s, e in counted):
            out.append(Candidate(run.start, run.end, str(n), "quantity", 0.35))
    return out


_WRITTEN_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SAID_DOT = r"(?:\s+dot\s+|\.)"
# "jane dot doe at gmail dot com", "j_doe at example.co.uk": a local part joined by said or
# written dots, underscores and dashes, "at", then a domain with at least one dot.
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9]+(?:(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._-])[a-z0-9]+)*"
    rf"\s+at\s+[a-z0-9-]+(?:{_SAID_DOT}[a-z0-9-]+)*{_SAID_DOT}[a-z]{{2,24}}\b", re.I)
_SAID_SIGNS = [(re.compile(rf"\s+{word}\s+", re.I), sign) for word, sign in (
    ("dot", "."), ("underscore", "_"), ("dash", "-"), ("hyphen", "-"), ("at", "@"))]


def detect_email(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Email addresses as written ("jane.doe@gmail.com") or said ("jane dot doe at gmail dot
    com"), value the address in lower case."""
    out = [Candidate(m.start(), m.end(), m.group().lower(), "email", 0.95)
           for m in _WRITTEN_EMAIL.finditer(call.text)]
    for m in _SPOKEN_EMAIL.finditer(call.text):
        value = m.group()
        for said, sign in _SAID_SIGNS:
            value = said.sub(sign, value)
        out.append(Candidate(m.start(), m.end(), value.replace(" ", "").lower(), "email", 0.85))
    return out


DETECTORS: dict[FieldKind, Detector] = {
    "code": detect_code, "digits": detect_digits, "phone": detect_phone, "money": detect_money,
    "quantity": detect_quantity, "email": detect_email,
}
