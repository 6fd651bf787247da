"""How callers say each field: the cue phrases the offline field extractor scores by.

Kept apart from the extractor's logic so the vocabulary can grow without touching the algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How callers say a field, beyond the words of its name (one regex alternation per field).
CUES: dict[str, str] = {
    "card_last_four": r"end(?:s|ing) (?:in|with)|last (?:four|4)(?: digits)?|card",
    "booking_reference": "confirmation|reservation number|code|locator",
    "phone_number": "phone number|call me at|reach me at|callback number|cell",
    "date_of_birth": "date of birth|born|birthday|DOB",
    "appointment_date": "appointment|opening|available|come in|schedule|book",
    "transaction_date": "charge|transaction|happened|posted|made",
    "incident_date": "happened|accident|incident|occurred",
    "start_date": "start|starting|begin|move in|moving|connected|turn on",
    "reservation_date": "reservation|booked|check in|stay",
    "original_date": r"originally|(?:booked|scheduled|was) (?:for|on)|currently",
    "new_date": r"instead|(?:change|move|switch|push) (?:it |that |this )?to|new date|rather"
                r"|like to (?:fly|leave|travel|go) on",
    "billing_month": "bill|billing|statement|invoice",
    "transaction_amount": "charge|charged|transaction|purchase",
    "disputed_amount": "charged|charge|extra|overcharged|dispute|fee",
    "refund_amount": "refund|paid|cost|back|price",
    "amount": "bill|owe|balance|total|due|came to",
    "pharmacy": r"pharmacy|send it to|pick (?:it )?up|drugstore",
    "merchant": "from|at|charge|merchant|store|purchase|transaction",
    "destination": r"to|trip to|going to|destination|fly(?:ing)? to",
    "service_address": r"address|moving (?:in)?to|new (?:home|place|house|apartment)",
}


@dataclass(frozen=True)
class TextCues:
    """`lead` precedes the value (the value is what follows); `keys` are part of the value."""

    lead: str = ""
    keys: str = ""
    widen: Literal["chunk", "clause"] = "clause"
    nominal: bool = False  # a thing, not a situation: stop at the first verb or preposition


TEXT_CUES: dict[str, TextCues] = {
    "reason": TextCues(
        lead="because|since|due to|the reason is|I've been having|I have been having|I'm having"
             "|I've had",
        keys=r"lost|stolen|damaged|broken|defective|cracked|wrong \w+|doesn't fit|check-?up"
             r"|physical|follow-?up|compromised|misplaced|missing|left it|can't find"
             r"|\w+aches?|pain|rash|fever|cough|infection|injury|sore throat|allerg\w+"),
    "question": TextCues(
        lead=r"I'd like to (?:ask|know)|I want(?:ed)? to (?:ask|know)|I was wondering"
             r"|(?:can|could) you tell me|my question is|question about",
        keys=r"(?:does|will|is|would) my (?:policy|plan|insurance|coverage)[^.?!]*"),
    "issue_description": TextCues(
        lead=r"the (?:problem|issue) is|having (?:trouble|problems|issues) with",
        keys=r"(?:not|isn't|stopped|won't|doesn't|can't|keeps?) (?:working|dropping|connect\w*"
             r"|turn(?:ing)? on|load\w*)|no (?:signal|service|internet|connection|dial tone)"
             r"|slow|dropping|disconnect\w*|outage"),
    "incident_type": TextCues(
        keys=r"accident|crash|rear-?ended|collision|fire|flood\w*|water damage|theft|stolen"
             r"|broke into|break-in|burst pipe|hail|storm|vandal\w*|leak\w*", widen="chunk"),
    "item": TextCues(
        lead=r"I ordered|I bought|I purchased|the item is|return (?:the|my|this)"
             r"|refund (?:for|on) (?:the|my)|order of|I received|I got", nominal=True),
    "medication": TextCues(
        lead=r"refill(?: of| for| on)?|prescription (?:for|of)|renew|(?:I'm|I am) (?:taking|on)",
        keys=r"\w+(?:pril|olol|statin|formin|cillin|mycin|azole|sartan|dipine|prazole|oxetine"
             r"|tidine|profen|terol)|insulin|inhaler", widen="chunk", nominal=True),
    "device": TextCues(
        lead=r"(?:I have|I'm using|I use) an?(?= [A-Z])",
        keys=r"router|modem|phone|iphone\w*|android|samsung|laptop|tablet|ipad|tv|cable box"
             r"|set-top box|hotspot|smartphone|landline", widen="chunk", nominal=True),
    "reservation_type": TextCues(
        keys="hotel room|room|suite|rental car|car rental|car|table|flight|cabin|tour",
        widen="chunk", nominal=True),
    "topic": TextCues(
        lead=r"calling (?:about|regarding)|it's about|question about|regarding|I'd like to"
             r"|I want to"),
}
