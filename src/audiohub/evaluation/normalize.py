"""Text normalisation for scoring, exactly as ../taxonomy.md says, for any backend.

Spelled-out numbers and digits are treated alike: both sides become digits, and runs of digits
are compared digit by digit, so "four five six seven", "4567" and "4 5 6 7" are the same.
"""

from __future__ import annotations

import re

_UNIT_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL_WORDS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
    "eighteenth", "nineteenth",
)
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS)}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(_TENS_WORDS)}
_ORDINALS = {w: i + 1 for i, w in enumerate(_ORDINAL_WORDS)} | {"twentieth": 20, "thirtieth": 30}
_MONEY = re.compile(r"\$\s?(\d[\d,]*)(?:\.(\d{1,2}))?")
# Written forms of spoken titles, as Whisper's own English normalizer reads them ("Dr." is
# "doctor"); "Ms." is how Whisper writes a spoken "Miss".
_TITLES = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miss"}
_DIGIT_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _expand_money(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        dollars = m.group(1).replace(",", "")
        cents = m.group(2)
        if cents and int(cents):
            return f" {dollars} dollars and {int(cents)} cents "
        return f" {dollars} dollars "
    return _MONEY.sub(repl, text)


def words_to_digits(tokens: list[str]) -> list[str]:
    """Turn number words into digit tokens: "forty nine" -> "49", "a hundred and twenty" -> "120",
    "four five" -> "4", "5" (a unit after a unit starts a new number), "twenty third" -> "23rd"."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        value, used, ordinal = _read_number(tokens, i)
        if used == 0:
            out.append(tokens[i])
            i += 1
            continue
        out.append(f"{value}{_suffix(value)}" if ordinal else str(value))
        i += used
    return out


def _read_number(tokens: list[str], i: int) -> tuple[int, int, bool]:
    """Read one number starting at tokens[i]: (value, tokens used, is ordinal)."""
    total, current, j, seen = 0, 0, i, False

    def round_so_far() -> bool:  # "a hundred", "two thousand": a smaller part may follow
        return current % 100 == 0 and bool(current or total)

    def tens_so_far() -> bool:  # "forty": a unit may follow ("forty nine")
        return current % 10 == 0 and current % 100 >= 20

    while j < len(tokens):
        t = tokens[j]
        nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
        if t == "a" and not seen and nxt in ("hundred", "thousand"):
            current, seen, j = 1, True, j + 1
            continue
        if t in _TENS and (not seen or round_so_far()):
            current += _TENS[t]
        elif t in _UNITS and (not seen or tens_so_far() or round_so_far()):
            current += _UNITS[t]
        elif t in _ORDINALS and (not seen or tens_so_far() or round_so_far()):
            return total + current + _ORDINALS[t], j - i + 1, True
        elif t == "hundred" and seen:
            current = max(current, 1) * 100
        elif t == "thousand" and seen:
            total, current = total + max(current, 1) * 1000, 0
        elif not (t == "and" and seen and round_so_far() and (nxt in _UNITS or nxt in _TENS)):
            break  # "and" is kept inside "a hundred and twenty", ends the number elsewhere
        seen = True
        j += 1
    return (total + current, j - i, False) if seen else (0, 0, False)


def _tokens(text: str, money: bool = True) -> list[str]:
    text = _expand_money(text.lower()) if money else text.lower()
    text = re.sub(r"(?<=\d)(?=[ap]\.?\s?m\b)", " ", text)  # "10am" -> "10 am"
    text = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text)  # "3 p.m." / "p m" -> "pm"
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,200 -> 1200
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return [_TITLES.get(t, t) for t in text.split()]


def normalize_for_wer(text: str) -> str:
    """Lowercase, no punctuation, numbers as single digits (ordinals kept whole). An "oh" next to
    a digit is the digit zero said aloud ("four oh nine"), which Whisper writes as 0."""
    out: list[str] = []
    tokens = words_to_digits(_tokens(text))
    digit = [t.isdigit() for t in tokens]
    tokens = ["0" if t == "oh" and ((i > 0 and digit[i - 1]) or (i + 1 < len(tokens)
                                                                 and digit[i + 1])) else t
              for i, t in enumerate(tokens)]
    for tok in tokens:
        if tok.isdigit():
            out.extend(tok)
        else:
            m = _DIGIT_ORDINAL.match(tok)
            out.append(f"{m.group(1)}{_suffix(int(m.group(1)))}" if m else tok)
    return " ".join(out)


def normalize_field(value: str, money: bool = True) -> str:
    """The taxonomy's field form: lowercase, no punctuation or spaces, spelled digits as digits
    ("four five" -> "45", "twelfth" -> "12"), "oh" kept as a word. With `money`, an amount
    written with its sign is read as said ("$49.99" -> "49dollarsand99cents"); without, the
    sign is punctuation, as the taxonomy has it ("$58.30" -> "5830")."""
    tokens = words_to_digits(_tokens(value, money))
    # An ordinal is its number here: "November twelfth" and "November 12" are the same date.
    return "".join(m.group(1) if (m := _DIGIT_ORDINAL.match(t)) else t for t in tokens)


def field_found(expected: str, returned: str | None) -> bool:
    """The expected value is contained in the returned one, or the returned one (at least 3
    characters once normalised) in the expected one: amounts read as said ("forty nine dollars
    and ninety nine cents" is "$49.99") or, as the taxonomy reads them, signs dropped ("58.30"
    is "$58.30")."""
    if returned is None:
        return False
    for money in (True, False):
        e, r = normalize_field(expected, money), normalize_field(returned, money)
        if e and (e in r or (len(r) >= 3 and r in e)):
            return True
    return False
