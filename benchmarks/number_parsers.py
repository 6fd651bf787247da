"""Which maintained parser reads spoken numbers, amounts, phone numbers and dates best, on
sentences we wrote the way Whisper writes calls (issue 17: "compare and pick with numbers").

Run: .venv/bin/python benchmarks/number_parsers.py   (needs word2number and number-parser
installed for their columns; they are not dependencies of the product).
Scores: for values, the share read exactly; for spans, precision and recall of what was found.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "extraction"))

from callview import SimpleCall

from audiohub.extraction.backends.local.detect_numbers import detect_money, detect_phone
from audiohub.extraction.backends.local.detect_time import detect_date
from audiohub.fieldspec import FieldSpec
from audiohub.numberwords import spoken_digits

SPOKEN = [  # (said, its digits)
    ("four five six seven", "4567"), ("forty five sixty seven", "4567"), ("double seven", "77"),
    ("nine oh two one", "9021"),
    ("one hundred and twelve", "112"), ("two thousand and five", "2005"),
    ("five five five zero one three four", "5550134"), ("triple three one", "3331"),
    ("seventy two", "72"), ("a hundred and twenty", "120"), ("fifty five zero one", "5501"),
    ("nineteen eighty two", "1982"), ("eight hundred", "800"), ("zero zero seven", "007"),
    ("six one three seven seven oh nine", "6137709"), ("twelve", "12"),
]
MONEY = [  # (sentence, amount)
    ("It came to one hundred and twelve dollars.", "$112"), ("I was charged $200 and $12.", "$212"),
    ("That's forty nine dollars and ninety nine cents.", "$49.99"),
    ("I paid 89.99 for it.", "$89.99"),
    ("The fee was $1,299.50 this month.", "$1299.50"), ("It's 45 dollars.", "$45"),
    ("They took sixty two dollars and fifty cents.", "$62.50"),
    ("Refund me $374 and 99 cents.", "$374.99"),
    ("It was twenty bucks.", "$20"), ("The total is 16 dollars.", "$16"),
]
PHONES = [  # (sentence, digits of the number, "" when none)
    ("Call me on four one five, five five five, zero one zero zero.", "4155550100"),
    ("My number is 415 555 0100.", "4155550100"), ("It's (212) 555-0199.", "2125550199"),
    ("Reach me at +44 20 7946 0958.", "442079460958"), ("My account is 4 5 6 7.", ""),
    ("The order is 913052.", ""),
    ("Phone eight hundred, five five five, one two three four.", "8005551234"),
    ("Text me on 555-0134.", "5550134"),
]
DATES = [  # (sentence, the date as said, "" when none)
    ("Can I come in on the twenty second of May?", "twenty second of May"),
    ("How about Monday the 17th?", "Monday the 17th"),
    ("Next Tuesday works for me.", "next Tuesday"),
    ("My date of birth is November twelfth, 1982.", "November twelfth, 1982"),
    ("I've had this cough for two weeks.", ""), ("My account is 4 5 6 7.", ""),
    ("It happened last Saturday.", "last Saturday"),
    ("I'm flying on June fourteenth.", "June fourteenth"),
    ("It was the third of May 1975.", "third of May 1975"), ("Please call me back at three.", ""),
    ("I'll pay it tomorrow.", "tomorrow"), ("The refund takes 5 to 7 business days.", ""),
]


def _digits(text: str | None) -> str:
    return "".join(c for c in text or "" if c.isdigit())


def score_values(name: str, read: Callable[[str], str | None],
                 cases: list[tuple[str, str]]) -> None:
    t0 = time.perf_counter()
    right = 0
    for said, expected in cases:
        try:
            got = read(said)
        except Exception:  # a parser that cannot read it has read it wrong
            got = None
        right += (got or "").replace(",", "") == expected
    ms = (time.perf_counter() - t0) * 1000 / len(cases)
    print(f"  {name:<34} exact {right}/{len(cases)} = {right / len(cases):.2f}  ({ms:.1f} ms each)")


def score_spans(name: str, find: Callable[[str], list[str]], cases: list[tuple[str, str]]) -> None:
    t0 = time.perf_counter()
    tp = fp = fn = 0
    for sentence, expected in cases:
        found = find(sentence)
        hit = bool(expected) and any(f.lower().removeprefix("the ") == expected.lower()
                                     .removeprefix("the ") for f in found)
        tp += hit
        fn += bool(expected) and not hit
        fp += len(found) - hit
    ms = (time.perf_counter() - t0) * 1000 / len(cases)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    print(f"  {name:<34} precision {p:.2f} recall {r:.2f}  ({ms:.1f} ms each)")


def main() -> None:
    from text_to_num import alpha2digit

    print("spoken numbers -> digits")
    score_values("text2num alpha2digit", lambda s: _digits(alpha2digit(s, "en", threshold=0)),
                 SPOKEN)
    score_values("numberwords.spoken_digits (text2num)", spoken_digits, SPOKEN)
    try:
        from word2number import w2n
        score_values("word2number", lambda s: str(w2n.word_to_num(s)), SPOKEN)
    except ImportError:
        print("  word2number: not installed")
    try:
        from number_parser import parse
        score_values("number-parser parse", lambda s: _digits(parse(s)), SPOKEN)
    except ImportError:
        print("  number-parser: not installed")

    print("money")
    money = FieldSpec(name="x", kind="money")
    try:
        from price_parser import Price

        def price(s: str) -> str | None:
            p = Price.fromstring(s)
            if p.amount is None:
                return None
            return f"{p.currency or '$'}{f'{p.amount:.2f}'.removesuffix('.00')}"

        score_values("price-parser Price.fromstring", price, MONEY)
    except ImportError:
        print("  price-parser: not installed")
    score_values("detect_money", lambda s: next(
        (c.value for c in detect_money(SimpleCall(s), money)), None), MONEY)

    print("phone numbers")
    import phonenumbers
    phone = FieldSpec(name="x", kind="phone")
    cases = [(s, e) for s, e in PHONES]
    score_spans("phonenumbers.PhoneNumberMatcher", lambda s: [
        _digits(phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
        .removeprefix("1") if not s.count("+") else
        _digits(phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
        for m in phonenumbers.PhoneNumberMatcher(s, "US")], cases)
    score_spans("detect_phone (runs + phonenumbers)", lambda s: [
        _digits(c.value).removeprefix("1") if "+" not in s else _digits(c.value)
        for c in detect_phone(SimpleCall(s), phone)], cases)

    print("dates")
    from audiohub.extraction.backends.local.nlp import load_spacy
    nlp = load_spacy()
    date = FieldSpec(name="x", kind="date")
    try:
        from dateparser.search import search_dates
        score_spans("dateparser search_dates", lambda s: [
            t for t, _ in search_dates(s, languages=["en"]) or []], DATES)
    except ImportError:
        print("  dateparser: not installed")
    score_spans("spaCy DATE entities", lambda s: [
        e.text for e in nlp(s).ents if e.label_ == "DATE"], DATES)
    score_spans("detect_date (patterns + spaCy)", lambda s: [
        c.value for c in detect_date(SimpleCall(s), date) if c.quality >= 0.5], DATES)


if __name__ == "__main__":
    main()
