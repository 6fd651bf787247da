"""Number words, ordinals, month and weekday names: the one place the codebase spells them out.

Callers say numbers the way they think of them ("four five six seven", "forty five sixty seven",
"double seven", "nine oh two", "one hundred and twelve") and Whisper writes some of them as words,
some as digits. Everything that reads spoken numbers (scoring, redaction, the repetition guard, the
field detectors) takes its word lists, regex fragments and word-to-number reading from here.
Reading a run of number words into digits is text2num's `alpha2digit`, a maintained parser that
keeps digit-by-digit speech as separate numbers; this module adds what it leaves out: "oh" for
zero, "double"/"triple", and "a" for "one" before "hundred"/"thousand".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from text_to_num import alpha2digit

# Digit words as said one by one: "oh" is zero ("four oh nine"), read so only inside a number.
DIGIT_WORDS: dict[str, str] = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
UNIT_WORDS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
TENS_WORDS: tuple[str, ...] = (
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SCALE_WORDS: dict[str, int] = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
# "double seven" is "77": how callers say a digit twice in an id or a phone number.
REPEAT_WORDS: dict[str, int] = {"double": 2, "triple": 3}
ORDINAL_WORDS: dict[str, int] = {
    w: i + 1 for i, w in enumerate((
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
        "seventeenth", "eighteenth", "nineteenth"))
} | {"twentieth": 20, "thirtieth": 30}
MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
WEEKDAYS: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

UNITS: dict[str, int] = {w: i for i, w in enumerate(UNIT_WORDS)}
TENS: dict[str, int] = {w: 10 * (i + 2) for i, w in enumerate(TENS_WORDS)}


def _alternatives(words: Iterable[str]) -> str:
    # Longest first, so "seventeen" is not read as "seven" + "teen".
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


# Regex fragments, non-capturing and without flags: compile them with re.I where case is free.
DIGIT_WORD = _alternatives(DIGIT_WORDS)
TENS_WORD = _alternatives(TENS_WORDS)
TEEN_WORD = _alternatives(UNIT_WORDS[10:])
# Any word of a cardinal number: "seven", "seventeen", "seventy", "hundred".
NUMBER_WORD = _alternatives((*UNIT_WORDS, *TENS_WORDS, *SCALE_WORDS))
REPEAT_WORD = _alternatives(REPEAT_WORDS)
ORDINAL_WORD = _alternatives(ORDINAL_WORDS)
_UNIT_ORDINAL = _alternatives(w for w, n in ORDINAL_WORDS.items() if n < 10)
# An ordinal as said or written: "third", "twenty third", "twenty-third", "23rd", and "20
# second", Whisper's way of writing "twenty second" now and then.
ORDINAL = (rf"(?:(?:{TENS_WORD}[ -])?{ORDINAL_WORD}|[23]0[ -]{_UNIT_ORDINAL}"
           rf"|\d{{1,2}}(?:st|nd|rd|th))")
MONTH = _alternatives(MONTHS)
WEEKDAY = _alternatives(WEEKDAYS)

_A_SCALE = re.compile(r"\ba(?=\s+(?:hundred|thousand|million)\b)", re.I)
_OH = re.compile(r"\boh\b", re.I)
_REPEAT = re.compile(rf"\b({REPEAT_WORD})[\s-]+({DIGIT_WORD}|\d)\b", re.I)
_DIGIT_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_SPLIT_ORDINAL = re.compile(rf"\b([23]0)[ -]({_UNIT_ORDINAL})\b", re.I)


def ordinal_suffix(n: int) -> str:
    """The suffix of `n` written as an ordinal: 1 "st", 12 "th", 22 "nd"."""
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def words_to_digits(text: str) -> str:
    """`text` with every spoken number written in digits, as text2num reads them.

    Digit-by-digit speech stays digit by digit ("four five" is "4 5"), compounds are one number
    ("a hundred and twenty" is "120", "forty nine" is "49"), ordinals keep their suffix ("twenty
    third" is "23rd") and a lone "one" or "second" is a number too. "oh" and "double" are left
    as said: whether they are digits depends on their neighbours (`spoken_digits`).
    """
    return str(alpha2digit(_A_SCALE.sub("one", text), "en", threshold=0))


def spoken_digits(text: str) -> str:
    """The digits of an id or a phone number as said, joined.

    Args:
        text: e.g. "four five six seven", "45 67", "forty five sixty seven", "double seven
            oh one" or "nine, oh, two".

    Returns:
        "4567", "4567", "4567", "7701", "902": every digit said, nothing else ("" when none).
    """
    text = _REPEAT.sub(lambda m: " ".join([m.group(2)] * REPEAT_WORDS[m.group(1).lower()]), text)
    text = _OH.sub("zero", text)
    return "".join(c for c in words_to_digits(text) if c.isdigit())


def number_value(text: str) -> int | None:
    """The one number `text` says: "one hundred and twelve" 112, "a thousand" 1000, "1,200"
    1200, "twenty third" 23; None when it says none, or several ("four five")."""
    read = words_to_digits(text.strip()).replace(",", "")
    m = _DIGIT_ORDINAL.match(read)
    if m:
        return int(m.group(1))
    return int(read) if read.isdigit() else None


def join_split_ordinals(text: str) -> str:
    """`text` with Whisper's split ordinals joined: "20 second of May" is "22nd of May"."""
    def joined(m: re.Match[str]) -> str:
        n = int(m.group(1)) + ORDINAL_WORDS[m.group(2).lower()]
        return f"{n}{ordinal_suffix(n)}"
    return _SPLIT_ORDINAL.sub(joined, text)
