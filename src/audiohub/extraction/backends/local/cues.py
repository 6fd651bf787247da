"""How callers say each field: the cue phrases the offline field extractor scores by.

Kept apart from the extractor's logic so the vocabulary can grow without touching the algorithm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Sentences only the agent says. A self-introduction next to one of them is the agent's too:
# "Thank you for calling Harbor Bank. My name is Jessica. How may I help you?"
AGENT = re.compile(r"thank(?:s| you) for calling|\bspeaking\b|how (?:can|may) I (?:help|assist)"
                   r"|I'll be (?:helping|assisting)|you've reached|you're speaking with"
                   r"|what can I (?:do|help you with)|welcome to", re.I)
GREETING = re.compile(r"thank(?:s| you) for calling|welcome to|you've reached|^\W*good (?:morning"
                      r"|afternoon|evening)\W*$", re.I)
HELP = re.compile(r"how (?:can|may) I (?:help|assist)|what can I (?:do|help you with)", re.I)
SELF_INTRO = re.compile(r"\b(?:this is|my name is|I'm|it's)\s+[A-Z]")
# Someone introducing themselves by first name only, as agents do: "my name is Troy", "this is
# Dara", "you're speaking with Jo" (not "this is Maria Lopez").
INTRODUCED = re.compile(r"\b(?:my name is|my name's|this is|I'm|you're speaking (?:to|with))\s+"
                        r"([A-Z][\w'-]+)(?![\w'-]|\s+[A-Z][a-z])")
# The caller greets the agent by name: "Hi Jessica", "Hello, Peter".
GREETED = re.compile(r"\b(?:Hi|Hello|Hey)\b,?\s+([A-Z][\w'-]+)(?=[\s,.!?])")


FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|my|me|we|our)\b", re.I)


def _names_the_line(first: str) -> bool:
    """A call that opens with a few words naming no one's own business is the agent answering:
    "Lost and stolen cards.", "Home claims." (not "Hello, is that the pharmacy?")."""
    return len(first.split()) <= 5 and not first.rstrip().endswith("?") \
        and not FIRST_PERSON.search(first)


def agent_sentences(said: list[str]) -> set[int]:
    """Which sentences the agent says: greetings, offers of help, all before an early offer of
    help (the agent opens the call), and a self-introduction right after a greeting or right
    before an offer of help ("Harbor Bank. My name is Jessica. How may I help you?")."""
    out = {i for i, t in enumerate(said) if AGENT.search(t)}
    if said and (SELF_INTRO.search(said[0]) or _names_the_line(said[0])):
        out.add(0)  # the agent answers the phone
    opened = next((i for i, t in enumerate(said[:3]) if HELP.search(t)), 0)
    out |= set(range(opened))
    for i, t in enumerate(said):
        offers = i + 1 < len(said) and HELP.search(said[i + 1])
        # Not an answer to the agent's question, nor a caller greeting the agent by name:
        # "... can I take your name please? Hi Mario, it's Ethan Byrne."
        greets = i > 0 and GREETING.search(said[i - 1]) and not HELP.search(said[i - 1]) \
            and not said[i - 1].rstrip().endswith("?") and not GREETED.match(t)
        if SELF_INTRO.search(t) and (offers or greets):
            out.add(i)
    return out


# How a name is asked for or given. The agent asks ("What's your full name?"); the caller says
# it, or the answer follows the question.
INTRO = (r"my name is|name is|this is|it's|under the name|under|I'm|name on the \w+ is"
         r"|(?:your|\w+'s) (?:full )?name|what name|whose name|who's name")
# Words after which a capitalised run is a name even where spaCy tags none.
NAMED_AFTER = re.compile(r"\b(?:my name is|name is|under the name|name on the \w+ is|Dr\.?"
                         r"|Doctor|(?:my|\w+'s) name,|(?:calling|booking|ringing) for my"
                         r" (?:daughter|son|mother|father|mum|mom|dad|husband|wife|partner|child"
                         r"|grandson|granddaughter),?)\s+", re.I)
TITLES = {"doctor": r"(?:Dr\.?|Doctor)", "physician": r"(?:Dr\.?|Doctor)"}
# Right before a person's name given as one: "under my wife's name, Lena Hale" (not "called":
# "a shop called Sunrise Electronics").
NAME_SAID = re.compile(r"\bname\b(?:\s+is)?[\s,:]*$", re.I)
# A sentence that asks, with or without Whisper's question mark: "May I have your full name."
ASKS = re.compile(r"^(?:\W*(?:okay|ok|sure|so|and|thanks?|thank you|great|alright|all right|right"
                  r"|perfect)\b[\s,.]*)*(?:what|what's|which|who|whose|who's|when|where|how|can"
                  r"|could|may|would|do|does|did|is|are|will)\b", re.I)
# A question whose answer is a place: "Where should we send it?", "Which pharmacy?"
ASKS_WHERE = re.compile(r"\bwhere\b|\bwhich (?:pharmacy|store|shop|branch|location|one)\b", re.I)
# A short question said as a phrase: "And the service address.", "Your date of birth."
ELLIPTIC = re.compile(r"\W*(?:and\s+)?(?:the|your)\s+(?:[\w-]+\s+){0,3}(?:address|name|number"
                      r"|date of birth|postcode|zip code)\W*$", re.I)
# A question whose answer is an address, and the words an answer starts with.
ASKS_ADDRESS = re.compile(r"\baddress\b", re.I)
ANSWER_WORDS = r"yes|yeah|sure|okay|it's|it is|that's|that would be"
ANSWER_LEAD = re.compile(rf"(?:(?:{ANSWER_WORDS}|so)\b[\s,.]*)*", re.I)
# A question asking for one of these is not the one a free-text field answers.
ASKS_FOR_OTHER = re.compile(r"\b(?:name|number|when|date|how much|who|whose|spell)\b", re.I)
# A question for a date or a time, whatever the field is called.
WHEN = r"when|(?:what|which) (?:day|date|time)"
# What a speaker says right after a value they take back: "2908. Sorry, no, 2906."
# What a caller says right after a value they turn down: "Friday's no good", "that won't work".
TURNED_DOWN = re.compile(r"(?:'s|\s+is|\s+are)?\s+(?:no good|not good|too (?:early|late)|out)\b"
                         r"|[\s,]+(?:that |it )?(?:doesn't|does not|won't|wouldn't|will not)"
                         r" (?:work|suit)", re.I)
# "The 27th of May, or, um, actually no, that's just gone, the 29th of May."
TAKEN_BACK = re.compile(r"[\s,.;:?-]*(?:(?:or|um|uh|er|erm|of|on|in|at|the|a)[\s,.;:-]+)*"
                        r"(?:(?:sorry|no|wait|I mean"
                        r"|actually|oops|correction|rather|make that|scratch that|let me correct"
                        r" that)[\s,.;:!-]*)+(?:(?:it's|that's|at|it is)\s+)?", re.I)
BOUNDARY = re.compile(r"[,;]\s|\s(?:and|but|so|which|because|although|though)\s")
NOMINAL_POS = frozenset({"ADJ", "NOUN", "PROPN", "NUM"})
GENERIC = frozenset({"prescription", "medication", "medicine", "meds", "refill", "order", "item",
                     "package", "reservation", "booking", "card", "account", "one", "thing", "it",
                     "number"})
# Words no value ends on ("in" and "on" may: "it won't turn on").
DANGLING = frozenset({"for", "of", "at", "to", "with", "and", "about", "from", "the", "a", "an",
                      "my", "but", "or", "so"})
# Words that say which one, not what: "the wrong item", "the same order".
VAGUE = frozenset({"wrong", "right", "same", "other", "new", "old", "whole", "entire", "last",
                   "first", "second", "latest", "recent"})
CONTAINERS = frozenset({"set", "pair", "pack", "box", "bag", "case", "bottle", "couple", "bundle",
                        "kit"})
NOT_THING = frozenset({"number", "bill", "call", "plan", "line", "account", "charge", "payment"})
WEAK_WORDS = frozenset({"number", "name", "date", "time", "amount", "type", "month", "of",
                        "description", "four", "last"})
# A field's kind from how its name ends (see fields.field_kind).
KIND_SUFFIXES = (
    (("_number", "_reference", "_id", "_code", "_last_four"), "id"), (("_name",), "person"),
    (("month",), "month"), (("_time",), "time"), (("address",), "address"),
    (("amount", "_price", "_cost", "_fee", "_balance"), "money"))
PLACE_ENTS = ("ORG", "GPE", "FAC", "LOC", "PERSON", "WORK_OF_ART", "PRODUCT")
PLACE_LABELS = {"pharmacy": ("ORG",), "merchant": ("ORG",), "destination": ("GPE", "LOC")}

# How callers say a field, beyond the words of its name (one regex alternation per field).
CUES: dict[str, str] = {
    "card_last_four": r"end(?:s|ing) (?:in|with)|last (?:four|4)(?: digits)?|card",
    "booking_reference": "confirmation|reservation number|code|locator",
    "phone_number": "phone number|call me at|reach me at|callback number|cell",
    "error_code": r"error(?: code| message)?|fault code|code on the screen",
    "date_of_birth": r"date (?:of|on) birth|born|birthday|DOB",  # Whisper's "date on birth"
    "appointment_date": r"appointment|opening|available|come in|schedule|book(?:ed)?|slot",
    "transaction_date": "charge|transaction|happened|posted|made",
    "incident_date": "happened|accident|incident|occurred",
    "start_date": "start|starting|begin|move in|moving|connected|turn on",
    "reservation_date": "reservation|booked|check in|stay",
    "original_date": r"originally|(?:booked|scheduled|was) (?:for|on)|currently|depart\w*",
    "new_date": r"instead|(?:change|move|switch|push) (?:it |that |this )?to|new date|rather"
                r"|like to (?:fly|leave|travel|go) on",
    "billing_month": "bill|billing|statement|invoice",
    "transaction_amount": "charge|charged|transaction|purchase",
    "disputed_amount": r"charged|charge|extra|overcharged|dispute|fee|more than|credit(?:ed)?",
    "refund_amount": "refund|paid|cost|back|price",
    "amount": "bill|owe|balance|total|due|came to",
    "pharmacy": r"pharmacy|chemist|(?:send|sent|go|going) (?:it )?to|pick (?:it )?up|drugstore",
    "merchant": "from|at|charge|merchant|store|purchase|transaction|payment|paid|subscription",
    "destination": r"to|trip to|going to|destination|fly(?:ing)? to",
    "service_address": r"address|moving (?:in)?to|new (?:home|place|house|apartment)",
}


@dataclass(frozen=True)
class TextCues:
    """`lead` precedes the value (the value is what follows); `keys` are part of the value;
    `before` follows a thing's noun phrase ("the coffee maker I ordered")."""

    lead: str = ""
    keys: str = ""
    before: str = ""
    widen: Literal["chunk", "clause"] = "clause"
    nominal: bool = False  # a thing, not a situation: stop at the first verb or preposition
    # Words of the agent's question that the next sentence answers ("What router do you have?")
    # besides the field's own name.
    asked: str = ""


TEXT_CUES: dict[str, TextCues] = {
    "reason": TextCues(
        # Not "since": "since Monday", "since it's back, the refund takes five days".
        lead="because|due to|the reason is|I've been having|I have been having|I'm having"
             "|I've had"
             # "I need to see someone about my ear"
             r"|(?:see|seen|check(?:ed)?|look(?:ed)? at)\b[^.?!,]{0,25}\babout (?:my|her|his)(?= )"
             # "It's for my knee", "it's for her blood pressure check"
             r"|(?:it's|it is) for (?:my|her|his|their|our)(?= )",
        keys=r"lost|stolen|damaged|broken|defective|cracked|wrong \w+|doesn't fit|check-?up"
             r"|physical|follow-?up|compromised|misplaced|missing|left it|can't find"
             r"|\w+aches?|pain|rash|fever|cough|infection|injury|sore throat|allerg\w+"
             r"|chipped|sprain\w*|swollen|swelling|dizz\w+|nause\w+|vomit\w*|bleeding|flu\b"
             r"|vaccin\w+|dropped (?:it|my \w+)|fell out|pickpocket\w*|swallowed|(?:was|got) taken"
             r"|too (?:small|big|large|tight|loose|short|long)|(?:doesn't|didn't) fit"
             r"|wrong size|arrived \w+ed|came \w+ed|never (?:arrived|came)"
             r"|stopped working|(?:doesn't|didn't|won't) (?:work|turn on|charge)|faulty"
             r"|(?:don't|do not|didn't) recogni[sz]e|duplicate"
             r"|nothing like|not (?:as|what) (?:described|pictured|advertised|I ordered)"
             r"|nicked|pinched|snatched|leak\w*|reaction|review|screening|blood test|scan|jab"
             r"|booster|ate (?:my|the) card|kept (?:my|the) card|snapped|torn|ripped|bent|stained"
             r"|looked at|checked out|seen to|skimmed|cloned|different from|(?:doesn't|does not)"
             r" match"),
    "question": TextCues(
        # Not "a question about my homeowners policy": that names the subject; the question
        # itself comes next ("Does it cover water damage?").
        lead=r"I'd like to (?:ask|know)|I (?:just )?want(?:ed)? to (?:ask|know)|I was wondering"
             r"|(?:can|could) you tell me|my question is",
        keys=r"(?:does|will|is|would) my (?:policy|plan|insurance|coverage)[^.?!]*"
             r"|(?:whether|if) (?:my|the|it|I|this)\b[^.?!]*\bcover\w*[^.?!]*"
             r"|(?:does|do|will|is|are|would|am|can|could) (?:my|I|it|this|that|the|you|he|she"
             r"|they|we)\b"
             r"[^.?!]*\b(?:cover\w*|includ\w*|pay\w*|protect\w*|claim\w*)\b[^.?!]*"),
    "issue_description": TextCues(
        lead=r"the (?:problem|issue) is|having (?:trouble|problems|issues) with",
        keys=r"(?:not|isn't|stopped|won't|doesn't|can't|keeps?) (?:working|dropping|connect\w*"
             r"|turn(?:ing)? on|load\w*)|no (?:signal|service|internet|connection|dial tone)"
             r"|slow|dropping|disconnect\w*|outage|(?:keeps?|kept) (?:on )?\w+ing(?: out| off)?"
             r"|cutting out|freez\w+|crash\w*|buffering|(?:black|blank) screen|error(?: code"
             r"| message)?|no (?:picture|sound)"
             # "I can't send text messages", "unable to log in"
             r"|(?:can't|cannot|can not|unable to|not able to) (?!hear you|find (?:it|the))\w+"
             # "my phone stopped getting texts", "I'm not receiving emails"
             r"|(?:stopped|not|isn't|aren't) (?:getting|receiving|sending|showing|charging)"
             r"|(?:won't|will not|doesn't|does not) (?:send|receive|make|load|open|connect)"
             r"|(?:nobody|no one) can (?:call|reach|hear|text) me|straight to voicemail"),
    "incident_type": TextCues(
        keys=r"accident|crash|rear-?ended|collision|fire|flood\w*|water damage|theft|stolen"
             r"|(?:reversed|backed|crashed|ran|drove|swerved) into|hit (?:my|our|the) \w+"
             r"|broke into|break[- ]?in|breaking in|broken into|burglar\w*|robbe\w*|burst pipe"
             r"|pipe burst|burst|hail|storm|vandal\w*|leak\w*|smashed|dented|scratched|keyed",
        widen="chunk"),
    "item": TextCues(
        lead=r"I ordered|I bought|I purchased|the item is|return (?:an?|the|my|this|these|those)"
             r"|I sent back|I returned|(?:on|about|checking on) (?:an|my|the) order,"
             r"|(?:refund|money back|exchange) (?:for|on) (?:an?|the|my)|order of|I received"
             r"|I got"
             # The agent reading the order back: "9 4 7 2, that's the cast iron skillet?"
             r"|(?<=\d, )(?:and )?that's the|(?<=\d )that's the"
             # or confirming it: "That's it. Okay, that's the cordless drill."
             r"|(?:^|(?<=[.?!] ))(?:okay|right|so|yes|alright)?,? ?that's the", nominal=True,
        before=r"(?:that |which )?(?:I|we) (?:ordered|bought|purchased|got)"
               r"|(?:on|from) (?:my |the |that |your )?order\b"),
    "medication": TextCues(
        lead=r"refill(?: of| for| on)?|prescription (?:for|of)|renew|(?:I'm|I am) (?:taking|on)"
             r"|more of my|run(?:ning)? (?:out|low) (?:of|on)(?: my)?",
        # Drug names by their stems; "April" and "cholesterol" only sound like them.
        keys=r"(?!April\b|cholesterol\b)\w+(?:pril|olol|statin|formin|cillin|mycin|azole|sartan"
             r"|dipine|prazole|oxetine|tidine|profen|terol|traline|faxine|opram|azepam|triptan|cycline"
             r"|floxacin|olone|sone|lukast|gliptin|gliflozin|thyroxine|codone|fenac|parin|vir)"
             r"|insulin|inhaler", widen="chunk",
        nominal=True),
    "device": TextCues(
        lead=r"(?:I have|I'm using|I use|it's|it is) an?(?= [A-Z])",
        keys=r"router|modem|phone|iphone\w*|android|samsung|laptop|tablet|ipad|tv|cable box"
             r"|set-top box|hotspot|smartphone|landline", widen="chunk", nominal=True,
        asked=r"router|modem|phone|handset|model|box"),
    "reservation_type": TextCues(
        lead=r"cancel(?:ling)? (?:my|our|the|an?|this)",
        keys="hotel room|room|suite|rental car|car rental|car|table|flight|cabin|tour",
        widen="chunk", nominal=True),
    "topic": TextCues(
        lead=r"calling (?:about|regarding)|it's about|question about|regarding|I'd like to"
             r"|(?:I'm|I am|I was) (?:just )?wondering(?: if| whether| about)?"
             r"|I (?:just )?want(?:ed)? to (?:check|ask(?: about)?|know|find out)|I want to",
        # A caller's own question is the topic: "quick question, what are your opening hours?"
        keys=r"(?!how (?:can|may) I (?:help|assist))(?:what|when|where|how) (?:are|is|do|does|can"
             r"|late|early|much|long) (?:your|you|the|I|we)\b[^.?!]*\?"
             # or asked for yes or no: "do you open on bank holidays?"
             r"|(?:do|does|are|is|will) (?:you|your|the|there)\b[^.?!]*\?"),
}
