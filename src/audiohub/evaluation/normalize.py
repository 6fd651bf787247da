"""Text normalisation for scoring, exactly as ../taxonomy.md says, for any backend.

Spelled-out numbers and digits are treated alike: both sides become digits, and runs of digits
are compared digit by digit, so "four five six seven", "4567" and "4 5 6 7" are the same.
"""

from __future__ import annotations

import re

from audiohub.numberwords import ordinal_suffix, words_to_digits

_MONEY = re.compile(r"([$£€])\s?(\d[\d,]*)(?:\.(\d{1,2}))?")
# How each sign's amount is said: "forty nine dollars and ninety nine cents", "sixty-two pounds
# thirty", "twelve euros fifty".
_SAID = {"$": ("dollars", "and {} cents"), "£": ("pounds", "{}"), "€": ("euros", "{}")}
# Written forms of spoken titles, as Whisper's own English normalizer reads them ("Dr." is
# "doctor"); "Ms." is how Whisper writes a spoken "Miss".
_TITLES = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miss"}
_DIGIT_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")


def _expand_money(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        unit, minor = _SAID[m.group(1)]
        whole, cents = m.group(2).replace(",", ""), m.group(3)
        if cents and int(cents):
            return f" {whole} {unit} {minor.format(int(cents))} "
        return f" {whole} {unit} "
    return _MONEY.sub(repl, text)


def _tokens(text: str, money: bool = True) -> list[str]:
    """Lowercase words without punctuation, titles spelled out, spoken numbers in digits."""
    text = _expand_money(text.lower()) if money else text.lower()
    text = re.sub(r"(?<=\d)(?=[ap]\.?\s?m\b)", " ", text)  # "10am" -> "10 am"
    text = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text)  # "3 p.m." / "p m" -> "pm"
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,200 -> 1200
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return words_to_digits(" ".join(_TITLES.get(t, t) for t in text.split())).split()


def normalize_for_wer(text: str) -> str:
    """Lowercase, no punctuation, numbers as single digits (ordinals kept whole). An "oh" next to
    a digit is the digit zero said aloud ("four oh nine"), which Whisper writes as 0."""
    out: list[str] = []
    tokens = _tokens(text)
    digit = [t.isdigit() for t in tokens]
    tokens = ["0" if t == "oh" and ((i > 0 and digit[i - 1]) or (i + 1 < len(tokens)
                                                                 and digit[i + 1])) else t
              for i, t in enumerate(tokens)]
    for tok in tokens:
        if tok.isdigit():
            out.extend(tok)
        else:
            m = _DIGIT_ORDINAL.match(tok)
            out.append(f"{m.group(1)}{ordinal_suffix(int(m.group(1)))}" if m else tok)
    return " ".join(out)


def normalize_field(value: str, money: bool = True) -> str:
    """The taxonomy's field form: lowercase, no punctuation or spaces, spelled digits as digits
    ("four five" -> "45", "twelfth" -> "12"), "oh" kept as a word. With `money`, an amount
    written with its sign is read as said ("$49.99" -> "49dollarsand99cents"); without, the
    sign is punctuation, as the taxonomy has it ("$58.30" -> "5830")."""
    tokens = _tokens(value, money)
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
