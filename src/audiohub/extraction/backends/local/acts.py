"""What the speakers of a call do, read from spaCy's parse: acts done, acts promised, requests to
the caller, transfers and refusals. `metrics.call_outcome` and `metrics.action_items` read them.

Every act is a clause: a verb with its subject and auxiliaries. Its kind comes from grammar, not
from phrases of calls — "I've blocked" and "it's been cancelled" are a perfect or passive of a
completed act; "we'll send", "I'm going to refresh", "an adjuster will call you" are a future
with a subject that can act; "bring your card" is an imperative. The few word lists here are
generic: modal and pronoun words, verbs of state (which promise nothing) and verbs of contact
(which make a promise a follow-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spacy.tokens import Doc, Span, Token

ActKind = Literal["done", "promise", "request", "transfer", "refusal"]

_SUBJECT = ("nsubj", "nsubjpass")
_FIRST = frozenset({"i", "we", "me", "us"})
# Subjects that cannot commit to anything: "it'll restart", "that will be all", "there'll be".
_IMPERSONAL = frozenset({"it", "that", "this", "there", "which", "what", "who", "nothing",
                         "anything", "everything", "something"})
_FUTURE = frozenset({"will", "shall"})
# Verbs of state: "I'll need the rider", "you'll want to keep it" promise no act.
_STATE = frozenset({"be", "have", "need", "want", "like", "love", "know", "think", "hope",
                    "remember", "seem", "wish", "mind", "prefer", "mean", "suppose", "do"})
# Acts of the call itself ("I'll spell it", "let me check"), not tasks for after it.
_SPEECH = frozenset({"spell", "confirm", "tell", "say", "repeat", "verify", "read", "check",
                     "look"})
# Verbs of contact: a promise of one is a later call or visit, i.e. a follow-up.
_CONTACT = frozenset({"call", "ring", "phone", "contact", "reach", "follow", "visit", "hear"})
# Imperatives that manage the call itself, not a task for after it.
_IN_CALL = _SPEECH | {"let", "hold", "wait", "bear", "go", "have", "enjoy", "thank", "excuse",
                      "see"}
# Objects that make an imperative a courtesy: "take care", "take a look".
_COURTESY = frozenset({"care", "look"})
_HANDOVER = frozenset({"transfer", "connect"})
# Separate clauses inside a clause's subtree: an item ends where one begins.
_OTHER_CLAUSE = frozenset({"advcl", "parataxis"})


@dataclass(frozen=True)
class Act:
    """One act said in the call: what kind, the clause that says it and where its verb is."""

    kind: ActKind
    text: str
    start: int
    follow_up: bool = False  # a later call or visit ("we'll call you back")
    conditional: bool = False  # "if it drops again, we'll send a technician"
    first_person: bool = False  # said of "I"/"we": the speaker's own act


def acts(doc: Doc) -> list[Act]:
    """Every act of the call, in order of appearance."""
    found: list[Act] = []
    for sent in doc.sents:
        asks = sent.text.rstrip().endswith("?")
        for verb in sent:
            if verb.pos_ not in ("VERB", "AUX") or asks:
                continue
            act = _act(verb, sent)
            if act is not None:
                found.append(act)
    return found


def _act(verb: Token, sent: Span) -> Act | None:
    subject = _subject(verb)
    if _negated(verb) or _inverted(verb, subject):
        return None
    who = subject.lower_ if subject is not None else ""
    first = who in _FIRST
    if _hands_over(verb):
        return _make("transfer", verb, subject, sent, first)
    if _refusal(verb, subject):
        return _make("refusal", verb, subject, sent, first)
    if verb.dep_ == "conj" and _subject(verb.head) == subject and _future(verb.head):
        return None  # "I'll block the card and open a dispute": one item, the head's
    if _future(verb) and subject is not None and who not in _IMPERSONAL and (
            verb.lemma_ not in _STATE | _SPEECH or _passive(verb)):
        return _make("promise", verb, subject, sent, first)
    if verb.lemma_ == "let":  # "let me check and call you back"
        later = [v for v in _with_conjuncts(verb) if v != verb]
        if any(v.lemma_ in _CONTACT for v in later):
            return _make("promise", verb, None, sent, True)
        return None
    if _imperative(verb, subject):
        if verb.dep_ == "conj" and _imperative(verb.head, None):
            return None  # "take photos and keep the receipts": one item, the head's
        return _make("request", verb, None, sent, False)
    if _done(verb, subject):
        return _make("done", verb, subject, sent, first)
    return None


def _hands_over(verb: Token) -> bool:
    """"I'll transfer you", "connecting you with", "let me put you through"."""
    kids = list(verb.children)
    if not any(c.dep_ == "dobj" and c.lower_ == "you" for c in kids):
        return False
    return verb.lemma_ in _HANDOVER or (verb.lemma_ == "put" and any(c.lower_ == "through"
                                                                      for c in kids))


def _make(kind: ActKind, verb: Token, subject: Token | None, sent: Span, first: bool) -> Act:
    # "we'll call you back", "I'll make a note so it's quick when you call back".
    follow = kind == "promise" and any(
        v.lemma_ in _CONTACT or (v.lemma_ == "get" and any(c.lower_ == "back" for c in v.children))
        for v in verb.subtree if v.pos_ == "VERB")
    conditional = any(c.dep_ == "advcl" and any(m.dep_ == "mark" and m.lower_ in ("if", "unless")
                                                for m in c.children)
                      for v in (verb, verb.head) for c in v.children)
    return Act(kind, _clause_text(verb, subject, sent), verb.idx, follow, conditional, first)


def _subject(verb: Token) -> Token | None:
    """The verb's subject; a conjunct without its own shares its head's ("I'll mark it and
    block the card"), and "going to refresh" has the subject of "going"."""
    for child in verb.children:
        if child.dep_ in _SUBJECT:
            return child
    if verb.dep_ == "conj" or (verb.dep_ == "xcomp" and verb.head.lemma_ == "go"):
        return _subject(verb.head) if verb.head != verb else None
    return None


def _negated(verb: Token) -> bool:
    """"won't", "not going to"; a conjunct with a subject of its own has its own polarity
    ("we can't waive it, but I've applied a credit")."""
    shares = verb.dep_ == "xcomp" or (
        verb.dep_ == "conj" and not any(c.dep_ in _SUBJECT for c in verb.children))
    heads = [verb, verb.head] if shares else [verb]
    return any(c.dep_ == "neg" for v in heads for c in v.children)


def _inverted(verb: Token, subject: Token | None) -> bool:
    """A question without its mark ("will I get it back"): the clause opens with an auxiliary
    that stands before the subject."""
    if subject is None:
        return False
    opening = [t for t in verb.subtree if t.dep_ not in ("intj", "punct", "cc")]
    return bool(opening) and opening[0].dep_ == "aux" and opening[0].i < subject.i


def _future(verb: Token) -> bool:
    """`will`/`shall` + verb, or `going to` + verb ("I'm going to refresh")."""
    if any(c.dep_ in ("aux", "auxpass") and c.lemma_ in _FUTURE for c in verb.children):
        return True
    if verb.dep_ == "xcomp" and verb.head.lemma_ == "go" and verb.head.tag_ == "VBG":
        return any(c.tag_ == "TO" for c in verb.children)
    return verb.dep_ == "conj" and _subject(verb) == _subject(verb.head) and _future(verb.head)


def _passive(verb: Token) -> bool:
    return verb.tag_ == "VBN" and any(c.dep_ == "auxpass" for c in verb.children)


def _done(verb: Token, subject: Token | None) -> bool:
    """A completed act: "it's been cancelled", "you're booked", "I've moved it", "Done."."""
    aux = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    if any(a.tag_ == "MD" for a in aux) or verb.lemma_ in _STATE - {"do"} | {"get"}:
        return False
    if subject is not None and _theirs(subject):
        return False  # "our trip's been called off" happened to the speakers
    if verb.tag_ != "VBG" and verb.tag_ != "VBN":
        return False
    if verb.tag_ == "VBG":
        # "I'm blocking it now": the speaker's act in progress, on the listener's matter —
        # "I'm buying a house" is the caller's news.
        return (subject is not None and subject.lower_ in _FIRST and verb.lemma_ != "go"
                and any(a.lemma_ == "be" for a in aux) and _on_the_matter(verb))
    if subject is None:
        return verb.dep_ == "ROOT" and not aux  # "Done." / "All done."
    if _passive(verb):
        # Present or perfect passive of something done for the caller; "I was charged" and
        # "it was stolen" are what happened to them.
        return subject.lower_ not in _FIRST and all(
            a.tag_ in ("VBZ", "VBP", "VBN") or a.lemma_ == "have" for a in aux)
    # Present perfect active of the speaker's own act: "I've booked you in"; "I've lost my
    # card" is the caller's.
    return (subject.lower_ in _FIRST and any(a.lemma_ == "have" and a.tag_ != "VBD" for a in aux)
            and not any(_theirs(c) for c in verb.children if c.dep_ == "dobj"))


def _theirs(noun: Token) -> bool:
    """A noun the speakers own: "my card", "our trip"."""
    return any(c.dep_ == "poss" and c.lower_ in ("my", "our") for c in noun.children)


def _on_the_matter(verb: Token) -> bool:
    """Whether a clause acts on the listener or on what was spoken of: "blocking it",
    "sending a signal to your router", "disputing that one"."""
    return any(t.lower_ in ("you", "your", "it", "that", "this", "one", "them")
               for c in verb.children if c.dep_ in ("dobj", "dative", "prep") for t in c.subtree)


def _refusal(verb: Token, subject: Token | None) -> bool:
    """The speaker cannot or will not: "I can't waive it", "we're unable to", "there's nothing
    I can do"."""
    if subject is None or subject.lower_ not in _FIRST:
        return False
    aux = [c for c in verb.children if c.dep_ == "aux"]
    negated = any(c.dep_ == "neg" for c in verb.children)
    if negated and any(a.tag_ == "MD" for a in aux):
        return True
    if verb.lemma_ == "be":  # "we're unable to", "I'm not able to"
        return any(c.dep_ == "acomp" and (c.lower_ == "unable" or (c.lower_ == "able" and negated))
                   for c in verb.children)
    # "there's nothing I can do": a modal act whose object is "nothing".
    return (verb.dep_ == "relcl" and verb.head.lower_ == "nothing"
            and any(a.tag_ == "MD" for a in aux))


def _imperative(verb: Token, subject: Token | None) -> bool:
    """A request to the caller: a bare verb with no subject or auxiliary of its own that says
    what to do with something ("bring his insurance card", "please take photos")."""
    own = [c for c in verb.children if c.dep_ in (*_SUBJECT, "aux", "auxpass")]
    if own or verb.tag_ != "VB" or verb.lemma_ in _IN_CALL:
        return False
    if verb.dep_ == "conj" and verb.head.tag_ == "VB":
        # "I'll mark it and block the card" shares its head's subject; "take photos and keep
        # the receipts" is a request when its head is one.
        if not _imperative(verb.head, _subject(verb.head)):
            return False
    elif verb.dep_ not in ("ROOT", "conj", "advcl", "parataxis"):
        return False
    objects = [c for c in verb.children if c.dep_ in ("dobj", "prt", "prep", "dative")]
    return bool(objects) and not any(c.lemma_ in _COURTESY for c in objects)


def _with_conjuncts(verb: Token) -> list[Token]:
    """The verb and the verbs joined to it that share its subject."""
    out = [verb]
    for child in verb.children:
        if child.dep_ in ("conj", "ccomp", "xcomp") and child.pos_ == "VERB" and not any(
                c.dep_ in _SUBJECT for c in child.children if c.lower_ not in ("me", "us")):
            out.extend(_with_conjuncts(child))
    return out


def _clause_text(verb: Token, subject: Token | None, sent: Span) -> str:
    """The clause from its subject to its last word, without clauses of its own
    ("if it drops again, ..." before it, "and it should be stable" after it)."""
    head = verb.head if verb.dep_ == "xcomp" and verb.head.lemma_ == "go" else verb
    cut: set[int] = set()
    for child in head.subtree:
        if child == head or child.head.i in cut:
            continue
        own = any(c.dep_ in _SUBJECT for c in child.children)
        finite = any(c.dep_ in ("aux", "auxpass") for c in child.children)
        if child.dep_ in _OTHER_CLAUSE or (child.dep_ == "conj" and own and child.head == head) or (
                child.dep_ == "ccomp" and finite):
            cut.update(t.i for t in child.subtree)
    first = subject.left_edge.i if subject is not None and subject.i < head.i else head.i
    first = min([first] + [c.i for c in head.children
                           if c.dep_ in ("aux", "auxpass", "neg", "intj") and c.i < head.i
                           and c.i not in cut])
    last = head.i
    for tok in sent.doc[head.i + 1:head.right_edge.i + 1]:
        if tok.i in cut:
            break
        last = tok.i
    while last > head.i and (sent.doc[last].is_punct or sent.doc[last].dep_ == "cc"):
        last -= 1
    return sent.doc[first:last + 1].text
