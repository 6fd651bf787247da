"""What the field engine knows about each kind of value, as data: how a value of the kind is
asked for and introduced, which detector proposes it, and the kind of a field written before
fields had kinds.

Everything here is about kinds ("a date", "a person"), never about one field or one call: a
category written in the dashboard gets the same behaviour as the shipped library. Pure data and
functions: prompts code imports `infer_kind`, so nothing here loads spaCy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audiohub.fieldspec import FieldKind


@dataclass(frozen=True)
class KindInfo:
    """How calls talk about values of one kind.

    Attributes:
        asks: words of a question that asks for such a value ("when", "what day").
        cues: words said right before such a value, whatever the field ("my name is").
        roles: other things a value of the kind may be, each with the words that say so: a
            date after "born" is a birth date, not the booking. A field whose own words name
            a role keeps it; otherwise a value cued for the role is not this field's.
        detector: "module.function" (in this package) of the detector proposing such values.
        guess: how much an uncued value of the kind still counts as the field's answer when it
            is the only one (0: places and organisations are too common to guess).
    """

    asks: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    detector: str = "detect_text.detect_text"
    guess: float = 0.05


_NUMBERED = ("number", "reference", "code", "id", "ending in", "ends in")
KINDS: dict[FieldKind, KindInfo] = {
    "person": KindInfo(asks=("name", "who", "whose", "spell"),
                       cues=("my name is", "name is", "this is", "it's", "under", "I'm"),
                       detector="detect_names.detect"),
    "organization": KindInfo(asks=("which", "where"), cues=("at", "from", "with", "to"),
                             detector="detect_names.detect", guess=0.0),
    "place": KindInfo(asks=("where", "which"), cues=("to", "in", "at", "from"),
                      detector="detect_names.detect", guess=0.0),
    "address": KindInfo(asks=("address", "where"), cues=("address", "live at", "at"),
                        detector="detect_names.detect"),
    "code": KindInfo(asks=_NUMBERED, cues=_NUMBERED,
                     roles={"phone": ("phone", "call me", "reach me", "callback", "cell"),
                            "error": ("error", "fault"),
                            "postcode": ("postcode", "post code", "zip code", "zip")},
                     detector="detect_numbers.detect_code"),
    "digits": KindInfo(asks=_NUMBERED, cues=_NUMBERED,
                       roles={"phone": ("phone", "call me", "reach me", "callback")},
                       detector="detect_numbers.detect_digits"),
    "phone": KindInfo(asks=("phone", "number", "reach you"),
                      cues=("phone", "call me", "reach me", "callback", "cell"),
                      detector="detect_numbers.detect_phone"),
    "email": KindInfo(asks=("email",), cues=("email",), detector="detect_numbers.detect_email"),
    "money": KindInfo(asks=("how much", "amount", "cost"),
                      cues=("charged", "paid", "cost", "costs", "for", "total", "amount"),
                      detector="detect_numbers.detect_money"),
    "quantity": KindInfo(asks=("how many", "how much"), guess=0.0,
                         detector="detect_numbers.detect_quantity"),
    "date": KindInfo(asks=("when", "what day", "what date", "which day", "what month"),
                     cues=("on", "date", "day"),
                     roles={"birth": ("born", "birth", "birthday", "DOB")},
                     detector="detect_time.detect_date"),
    "time": KindInfo(asks=("what time", "when"), cues=("at", "time"),
                     detector="detect_time.detect_time"),
    "choice": KindInfo(asks=("which", "what kind", "what type"),
                       detector="detect_text.detect_choice"),
    "yes_no": KindInfo(asks=("do you", "did you", "is it", "are you"),
                       detector="detect_text.detect_yes_no"),
    "text": KindInfo(asks=("what", "why", "how")),
}

# A title said before a person's name: part of the value ("Doctor Bennett").
TITLES = ("doctor", "dr", "mr", "mrs", "ms", "miss", "mister", "professor", "nurse")
# Words that end a street name: "12 Willow Creek Drive".
STREETS = ("street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln",
           "drive", "dr", "court", "ct", "way", "place", "terrace", "circle", "parkway",
           "highway", "close", "crescent", "grove", "gardens", "square", "row", "mews", "walk",
           "rise", "hill", "green")
UNITS = ("apartment", "apt", "unit", "suite", "flat")
# Words that end the name of a business: "Fairway Pharmacy", "Harbor Bank", "Elm Dental".
BUSINESSES = ("pharmacy", "chemist", "chemists", "bank", "clinic", "surgery", "hospital",
              "dental", "practice", "store", "stores", "shop", "market", "supermarket", "cafe",
              "restaurant", "hotel", "inn", "airlines", "airways", "air", "insurance", "motors",
              "garage", "energy", "telecom", "mobile", "broadband", "gym", "fitness", "school",
              "college", "university", "library", "electronics", "furniture", "books",
              "group", "company", "co", "inc", "ltd", "limited", "llc", "services")

# Old specs: a field's kind from the words of its name (last word first) and description.
_NAME_WORDS: tuple[tuple[FieldKind, tuple[str, ...]], ...] = (
    ("email", ("email", "e-mail")),
    ("phone", ("phone", "telephone", "mobile", "callback")),
    ("address", ("address", "postcode", "zip")),
    ("time", ("time", "hour")),
    ("date", ("date", "day", "month", "birthday", "dob", "deadline")),
    ("money", ("amount", "price", "cost", "fee", "balance", "total", "payment", "refund",
               "charge", "deposit")),
    ("quantity", ("quantity", "count", "guests", "people", "nights")),
    ("digits", ("four", "digits", "pin")),
    ("code", ("number", "reference", "id", "code", "ref", "serial", "confirmation")),
    ("person", ("name", "doctor", "agent", "patient", "guest", "holder", "caller",
                "customer", "contact", "teacher", "technician")),
    ("organization", ("company", "business", "bank", "provider", "store", "shop", "clinic",
                      "airline", "hotel", "employer", "school", "insurer", "vendor", "supplier")),
    ("place", ("city", "location", "place", "country", "origin", "town", "venue")),
)
_DESCRIPTION: tuple[tuple[FieldKind, str], ...] = (
    ("yes_no", r"^(?:whether|if)\b|\byes or no\b"),
    ("person", r"\b(?:full name|person|who)\b"),
    ("date", r"\b(?:when|date|day)\b"),
    ("place", r"\bwhere\b"),
    ("money", r"\bhow much\b|\bamount\b"),
    ("quantity", r"\bhow many\b"),
)


def words(text: str) -> list[str]:
    """Lower-case words of a field name or phrase ("seat_row_letter" -> seat, row, letter)."""
    return [w for w in re.split(r"[\W_]+", text.lower()) if w]


def infer_kind(name: str, description: str = "") -> FieldKind:
    """The likely kind of a field written before fields had kinds.

    The last word of the name decides first ("shop_name" is a name, "move_date" a date),
    then any other word of it, then the description's question words. A guess for a person to
    confirm, never a fact.

    Args:
        name: the field's name, e.g. "invoice_number".
        description: what the field holds, e.g. "when the incident happened".

    Returns:
        One of the field kinds; "text" when nothing says otherwise.
    """
    said = words(name)
    if said[-2:] == ["last", "four"] or said[-1:] == ["digits"]:
        return "digits"
    # "phone_number", "email_address": the medium wins over the generic last word.
    for kind, known in _NAME_WORDS[:2]:
        if any(w in known for w in said):
            return kind
    for word in reversed(said):
        for kind, known in _NAME_WORDS:
            if word in known:
                # "pharmacy_name", "merchant_name": a name of an organisation, not a person.
                if kind == "person" and word == "name" and len(said) > 1:
                    return _owner_kind(said[:-1])
                return kind
    for kind, pattern in _DESCRIPTION:
        if re.search(pattern, description, re.I):
            return kind
    return "text"


def _owner_kind(said: list[str]) -> FieldKind:
    for kind, known in _NAME_WORDS:
        if kind in ("organization", "place") and any(w in known for w in said):
            return kind
    return "person"
