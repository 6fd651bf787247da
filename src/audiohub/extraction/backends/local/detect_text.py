"""Detectors for `text`, `choice` and `yes_no` fields: what a field is comes from its spec alone.

A free-text value (a reason, an issue, an item) is one of the call's clauses or noun phrases
(spaCy's parse, trimmed of fillers and dangling words). Each span is described by a few numbers
relative to the field (`FEATURES`: MiniLM likeness to its name, example values, description and
cues; whether its sentence answers a question about the field; a parse link to the field's words;
its share of the field's own words; who said it ...), and one logistic scorer, fitted on the
tuning calls' scripts (text_scorer.json, `eval/train_text_scorer.py`), turns them into the
chance that it is the value. The same weights serve every text field of every category.
A choice is one of its listed values or synonyms said in the call, by word, by lemma or, for a
paraphrase, by MiniLM. A yes/no value is the reply to the question that asks the field, or a
statement of it ("I don't have insurance"), read for its polarity.

A span's vector is pooled from the call's one MiniLM pass, shared with the classifier
(embedded.py), and kept in `call.memo`, so each further field costs one matrix product. A field's
texts are embedded once per process.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from audiohub.errors import BackendUnavailableError
from audiohub.extraction.backends.local.call import CallView, Candidate, Span
from audiohub.fieldspec import FieldSpec

if TYPE_CHECKING:
    from spacy.tokens import Span as TokenSpan
    from spacy.tokens import Token

F32 = npt.NDArray[np.float32]

# Words that open a spoken clause without being part of what it says.
_FILLERS = frozenset({
    "um", "uh", "erm", "er", "ah", "oh", "so", "well", "okay", "ok", "yeah", "yes", "no", "right",
    "just", "actually", "basically", "also", "hi", "hello", "sorry", "please", "and", "but", "or",
    "then", "now", "anyway", "alright", "hmm",
})
# Parts of speech a span neither starts nor ends on (a clause cut at a pause ends on "for").
_EDGE_POS = frozenset({"ADP", "CCONJ", "SCONJ", "PUNCT", "DET", "PART", "INTJ", "SPACE"})
# A clause ends before punctuation and before a conjunction that joins two clauses.
_CUT_DEPS = frozenset({"cc", "mark", "preconj"})
_CUT_TEXT = frozenset({",", ";", ":", "-", "--", "—", "...", "…"})
_MAX_TOKENS = 25
# A field whose words say it is something asked: its value is inside a question.
_ASKING = frozenset({"ask", "question", "know", "wonder", "inquire", "inquiry", "enquiry", "query"})
_YES = frozenset({"yes", "yeah", "yep", "yup", "sure", "correct", "absolutely", "definitely",
                  "certainly", "course", "right", "indeed", "uh-huh"})
_NO = frozenset({"no", "nope", "nah", "never", "not", "n't", "none", "neither"})
# Cosines of MiniLM mapped to a quality of 0..1: unrelated text sits near 0.1, a paraphrase
# above 0.6 (all-MiniLM-L6-v2 on short spoken phrases).
_SIM_LOW, _SIM_HIGH = 0.12, 0.8
# A choice said in other words counts from this cosine on; a yes/no question is the field's
# from this one.
_PARAPHRASE = 0.6
_ASKS_FIELD = 0.45
# spaCy entities that are values of the typed kinds, never of a free-text field.
_NUMERIC_ENTS = frozenset({"DATE", "TIME", "MONEY", "CARDINAL", "ORDINAL", "QUANTITY", "PERCENT"})
# How a thing hangs on the word that introduces it: "refund [the boots]", "the item is [a
# kettle]", "a refill on [my inhaler]", "a kettle and [a toaster]".
_OBJECT_DEPS = frozenset({"dobj", "pobj", "attr", "nsubjpass", "appos", "conj"})
# Regular English endings of a word: "install" -> "installed", "cancel" -> "cancelling".
_INFLECTIONS = frozenset({"s", "es", "d", "ed", "ing", "led", "ling"})
_MEMO = "detect_text.spans"
_SCORER = Path(__file__).with_name("text_scorer.json")


@dataclass(frozen=True)
class _CallSpans:
    """The clauses and noun phrases of a call, with their sentences and unit embeddings."""

    spans: list[Span]
    sents: list[int]
    phrase: list[bool]
    vectors: F32
    # Per span: its content lemmas, its words, the token index of its syntactic root, and a
    # factor below one when it is mostly another kind's value (an amount, a date, a name).
    lemmas: list[frozenset[str]]
    words: list[int]
    roots: list[int]
    typed: npt.NDArray[np.float64]


@dataclass(frozen=True)
class _FieldVectors:
    """A field's reference texts, embedded; `examples`/`cues`/`sentences` may have no rows."""

    description: F32
    name: F32
    cues: F32
    examples: F32
    sentences: F32
    own: frozenset[str]
    anchors: frozenset[str]
    asking: bool


def _embed(texts: Sequence[str]) -> F32:
    from audiohub.extraction.backends.local.analyzer import _embedder

    return _embedder().encode(list(texts))


def _calibrated(sim: npt.NDArray[np.float32] | float) -> npt.NDArray[np.float64]:
    return np.asarray(np.clip((np.asarray(sim) - _SIM_LOW) / (_SIM_HIGH - _SIM_LOW), 0.0, 1.0))


# ---------------------------------------------------------------------------------------------
# Spans of a call


def _trimmed(tokens: Sequence[Token], nominal: bool) -> tuple[int, int] | None:
    """Token bounds (i, j) of `tokens` less leading fillers and dangling edges; None if nothing
    with meaning is left. A noun phrase loses its determiners and possessives too."""
    i, j = 0, len(tokens)

    def edge(t: Token) -> bool:
        return t.pos_ in _EDGE_POS or t.lower_ in _FILLERS or (nominal and t.tag_ == "PRP$")

    while i < j and edge(tokens[i]):
        i += 1
    while j > i and (edge(tokens[j - 1]) or tokens[j - 1].is_space):
        j -= 1
    content = [t for t in tokens[i:j] if t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM", "ADV")
               and not t.is_stop and len(t) > 2]
    if not content or j - i > _MAX_TOKENS:
        return None
    return tokens[i].i, tokens[j - 1].i + 1


def _clauses(sent: TokenSpan) -> list[tuple[int, int]]:
    """A sentence cut at punctuation and at conjunctions, trimmed."""
    pieces: list[list[Token]] = [[]]
    for t in sent:
        # "and" cuts between two clauses, not inside "sore and swollen"
        joins = t.dep_ in _CUT_DEPS and (t.dep_ != "cc" or t.head.pos_ in ("VERB", "AUX"))
        if t.text in _CUT_TEXT or joins or t.pos_ == "SCONJ":
            pieces.append([])
        else:
            pieces[-1].append(t)
    return [b for p in pieces if p and (b := _trimmed(p, nominal=False))]


def _phrases(sent: TokenSpan, chunks: Sequence[TokenSpan]) -> list[tuple[int, int]]:
    """Noun phrases for things: the sentence's noun chunks, and each chunk with the
    prepositional phrase that qualifies it ("a rash on his arm", "a set of wine glasses")."""
    out: list[tuple[int, int]] = []
    for chunk in chunks:
        if chunk.root.pos_ == "PRON":
            continue
        preps = [c for c in chunk.root.rights if c.dep_ == "prep" and c.i == chunk.end]
        bounds = _trimmed(list(chunk), nominal=True)
        # "a pair" of "a pair of boots" is no thing on its own
        if bounds and not any(p.lower_ == "of" for p in preps):
            out.append(bounds)
        for prep in preps:
            end = max(t.i for t in prep.subtree) + 1
            if end - chunk.start <= 10 and any(c.dep_ in ("pobj", "pcomp") for c in prep.children):
                extended = _trimmed(list(sent.doc[chunk.start:end]), nominal=True)
                if extended:
                    out.append(extended)
    return out


def _span_vectors(text: str, spans: list[Span]) -> F32:
    """Each span's vector pooled from the call's one MiniLM pass, which the classifier made
    already (embedded.py)."""
    from audiohub.extraction.backends.local.analyzer import _embedder
    from audiohub.extraction.backends.local.embedded import embed_text

    return embed_text(_embedder(), text).span_vectors(spans)


def _call_spans(call: CallView) -> _CallSpans:
    """Every clause and noun phrase of the call, with its vector (memoised on the call)."""
    memo = call.memo.get(_MEMO)
    if isinstance(memo, _CallSpans):
        return memo
    doc = call.doc
    # The doc's noun chunks once: spaCy's Span.noun_chunks walks the whole doc's for every
    # sentence (9 ms of a 100-word call).
    chunks = list(doc.noun_chunks)
    seen: dict[Span, tuple[int, bool]] = {}
    for sent in doc.sents:
        index = call.sentence(sent.start_char)
        mine = [c for c in chunks if c.start >= sent.start and c.end <= sent.end]
        for nominal, found in ((False, _clauses(sent)), (True, _phrases(sent, mine))):
            for i, j in found:
                span = (doc[i].idx, doc[j - 1].idx + len(doc[j - 1]))
                seen.setdefault(span, (index, nominal))
    spans = sorted(seen)
    toks = [doc.char_span(a, b, alignment_mode="expand") for a, b in spans]
    result = _CallSpans(
        spans=spans,
        sents=[seen[s][0] for s in spans],
        phrase=[seen[s][1] for s in spans],
        vectors=_span_vectors(call.text, spans),
        lemmas=[frozenset(t.lemma_.lower() for t in ts or () if t.is_alpha and not t.is_stop)
                for ts in toks],
        words=[sum(not t.is_punct for t in ts or ()) for ts in toks],
        roots=[ts.root.i if ts is not None else -1 for ts in toks],
        typed=np.array([_typed(ts) if ts is not None else 1.0 for ts in toks]),
    )
    call.memo[_MEMO] = result
    return result


# ---------------------------------------------------------------------------------------------
# The field side


def _name_words(name: str) -> str:
    return " ".join(w for w in re.split(r"[_\W]+", name) if w)


def _listed(description: str) -> list[str]:
    """Values a description lists in parentheses: "what happened (collision, theft ...)"."""
    return [x.strip(" .") for group in re.findall(r"\(([^)]*)\)", description)
            for x in re.split(r",|\bor\b", group) if x.strip(" .")]


@functools.lru_cache(maxsize=512)
def _field_vectors(name: str, description: str, cues: tuple[str, ...],
                   examples: tuple[tuple[str, str], ...]) -> _FieldVectors:
    from audiohub.extraction.backends.local.nlp import load_spacy

    words = _name_words(name)
    about = re.sub(r"\([^)]*\)", "", description).strip() or words
    values = [*(v for _, v in examples), *_listed(description)]
    texts = [about, words, *cues, *values, *(s for s, _ in examples)]
    v = _embed(texts)
    c, x = 2 + len(cues), 2 + len(cues) + len(values)
    nlp = load_spacy()

    def lemmas(*texts: str) -> frozenset[str]:
        return frozenset(t.lemma_.lower() for d in nlp.pipe(texts) for t in d
                         if t.is_alpha and not t.is_stop)

    # A value is not made of the words that name the field or introduce it; a one-word cue
    # ("router" for a device) names a kind of value and stays out of that set.
    own = lemmas(words, about, *(c for c in cues if " " in c))
    asking = bool(own & _ASKING) or any(s.rstrip().endswith("?") for s, _ in examples)
    return _FieldVectors(v[0:1], v[1:2], v[2:c], v[c:x], v[x:], own,
                         lemmas(words, about, *cues), asking)


def vectors_of(field: FieldSpec) -> _FieldVectors:
    return _field_vectors(field.name, field.description, tuple(field.cues),
                          tuple(field.marked_examples()))


def _max_sim(vectors: F32, refs: F32) -> npt.NDArray[np.float32] | None:
    return (vectors @ refs.T).max(axis=1) if len(refs) else None


# What the text scorer reads of a span, in the order of text_scorer.json's weights.
FEATURES = (
    "name",        # cosine to the field's name ("router" for a device)
    "example",     # best cosine to the field's example values (0 without examples)
    "description", # cosine to the field's description
    "cue",         # best cosine to its cues and example sentences (0 without)
    "context",     # the best clause of the span's sentence, near the description or cues
    "asked",       # the span's sentence replies to a question near the field
    "own",         # share of the span's words that are the field's own ("refund" is all)
    "linked",      # the parse ties it to one of the field's words ("a refund for [the boots]"),
                   # or, for a field that is asked, it is its speaker's question
    "typed",       # 1, or less for a span that is mostly an amount, date or name
    "question",    # said in a question, for a field whose value is not itself asked
    "greeting",    # said in the agent's greeting
    "phrase",      # a noun phrase (else a clause)
    "length",      # log(1 + words)
    "speaker",     # said by the field's `said_by` party (0.5 when either, or unknown)
)


def features(call: CallView, field: FieldSpec) -> tuple[list[Span], F32]:
    """Each clause and noun phrase of the call, and what the scorer reads of it for `field`.

    Every feature is relative to the field's spec (its name, description, cues and examples)
    or generic (the parse, the speaker, the question before), never to a field or a phrase of
    the library: the same weights score every text field of every category.
    """
    cs = _call_spans(call)
    if not cs.spans:
        return [], np.zeros((0, len(FEATURES)), dtype=np.float32)
    fv = vectors_of(field)
    v = cs.vectors
    zero = np.zeros(len(cs.spans), dtype=np.float32)
    said, near, context = _about(cs, fv)
    refs = np.vstack([fv.cues, fv.sentences])
    cue = _max_sim(v, refs)
    # A reply's sentence is near the field when the question before it is ("What seems to be
    # the problem?" "[The boiler's leaking]").
    best: dict[int, float] = {}
    for k, sent in enumerate(cs.sents):
        best[sent] = max(best.get(sent, 0.0), float(near[k]))
    asks = {r: best.get(q, 0.0) for q in range(len(call.sents))
            if call.is_question(q) and (r := _reply(call, q)) is not None}
    greeting = next((i for i in range(len(call.sents)) if call.by_agent(i)), -1)
    side = field.said_by

    columns = {
        "name": v @ fv.name[0],
        "example": zero if (m := _max_sim(v, fv.examples)) is None else m,
        "description": said,
        "cue": zero if cue is None else cue,
        "context": context,
        "asked": np.array([asks.get(sent, 0.0) for sent in cs.sents]),
        "own": np.array([len(w & fv.own) / len(w) if w else 0.0 for w in cs.lemmas]),
        # A field whose value is asked is tied to the clauses of its speaker's questions.
        "linked": np.array([_linked(call, root, fv.anchors) or (
            fv.asking and not cs.phrase[k] and call.is_question(cs.sents[k])
            and side in ("either", "agent" if call.by_agent(cs.sents[k]) else "customer"))
            for k, root in enumerate(cs.roots)]),
        "typed": cs.typed,
        "question": np.array([call.is_question(sent) and not fv.asking for sent in cs.sents]),
        "greeting": np.array([sent == greeting for sent in cs.sents]),
        "phrase": np.array(cs.phrase),
        "length": np.log1p(np.array(cs.words)),
        "speaker": np.array([0.5 if side == "either" else float(
            call.by_agent(sent) == (side == "agent")) for sent in cs.sents]),
    }
    return cs.spans, np.column_stack([columns[f] for f in FEATURES]).astype(np.float32)


@functools.cache
def _weights() -> tuple[F32, float]:
    """The scorer's weights (text_scorer.json, fitted by eval/train_text_scorer.py on the
    tuning calls' scripts)."""
    data = json.loads(_SCORER.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise BackendUnavailableError(f"{_SCORER.name} was fitted on other features; refit "
                                      "it with eval/train_text_scorer.py")
    return np.array(data["weights"], dtype=np.float32), float(data["bias"])


def quality(x: F32) -> npt.NDArray[np.float64]:
    """The scorer's probability that each row's span is the field's value."""
    w, b = _weights()
    return np.asarray(1.0 / (1.0 + np.exp(-(x @ w + b))), dtype=np.float64)


def _named_more(call: CallView, cs: _CallSpans, q: npt.NDArray[np.float64]
                ) -> npt.NDArray[np.float64]:
    """A plain noun that is among the best gives way to what names it more precisely, an
    apposition ("my pills, [lisinopril]") or the reply to a which-question ("Which printer?" "[A
    Brother laser]"), which takes its score a little raised."""
    out, doc = q.copy(), call.doc
    for plain, named in _naming_pairs(call):
        of = [k for k, root in enumerate(cs.roots) if root == plain]
        if of and max(q[k] for k in of) >= 0.9 * q.max():
            for k, root in enumerate(cs.roots):
                if root == named:
                    out[k] = max(out[k], min(max(q[k] for k in of) + 0.02, 1.0))
                elif cs.lemmas[k] == {doc[plain].lemma_.lower()}:
                    out[k] = 0.7 * q[k]
    return out


def _naming_pairs(call: CallView) -> list[tuple[int, int]]:
    """(plain noun, the noun naming it more precisely) token pairs of the parse."""
    key = f"{_MEMO}.naming"
    if key not in call.memo:
        pairs = [(t.head.i, t.i) for t in call.doc
                 if t.dep_ == "appos" and t.head.pos_ == "NOUN" and _thing(t)]
        for t in call.doc:
            reply = _reply(call, call.sentence(t.idx)) if (
                t.tag_ == "WDT" and t.dep_ == "det" and t.head.pos_ == "NOUN") else None
            if reply is not None:
                s, e = call.sents[reply]
                pairs += [(t.head.i, u.i) for u in call.doc.char_span(
                    s, e, alignment_mode="expand") or () if _thing(u) and u.dep_ != "compound"]
        call.memo[key] = pairs
    found: list[tuple[int, int]] = call.memo[key]
    return found


def _thing(t: Token) -> bool:
    return t.pos_ in ("NOUN", "PROPN") and not t.is_stop


def _about(cs: _CallSpans, fv: _FieldVectors) -> tuple[F32, F32, F32]:
    """How near each span comes to the field's description; to it, its cues or example
    sentences (the words a value is said among, not the value); and the best clause of its
    sentence to those."""
    v = cs.vectors
    said: F32 = v @ fv.description[0]
    around = [said, *(0.9 * m for m in (_max_sim(v, fv.cues), _max_sim(v, fv.sentences))
                      if m is not None)]
    near: F32 = np.vstack(around).max(axis=0)
    best: dict[int, float] = {}
    for k, sent in enumerate(cs.sents):
        if not cs.phrase[k]:
            best[sent] = max(best.get(sent, -1.0), float(near[k]))
    context = np.array([best.get(sent, float(near[k])) for k, sent in enumerate(cs.sents)],
                       dtype=np.float32)
    return said, near, context


def _linked(call: CallView, root: int, anchors: frozenset[str]) -> bool:
    """Whether the parse ties the span (by its root) to one of the field's words: it is what
    the word acts on ("refund [the boots]", "a refill on [my inhaler]"), or the word qualifies
    it ("a [bookshelf] I ordered")."""
    if root < 0:
        return False
    t = call.doc[root]
    up = [t.head, t.head.head] if t.head.dep_ == "prep" or t.head.pos_ == "ADP" else [t.head]
    if t.pos_ in ("NOUN", "PROPN") and t.dep_ in _OBJECT_DEPS and any(
            u.i != t.i and u.lemma_.lower() in anchors for u in up):
        return True
    return any(c.dep_ in ("relcl", "acl", "amod") and c.lemma_.lower() in anchors
               for c in t.children)


def _typed(tokens: TokenSpan) -> float:
    """A factor below one for a span that is mostly an amount, a date or a name (another
    kind's value), or a lone word that names no thing ("perfect", "thanks")."""
    words = [t for t in tokens if not t.is_punct]
    if not words:
        return 0.0
    if len(words) == 1 and words[0].pos_ not in ("NOUN", "PROPN", "VERB"):
        return 0.3
    numeric = sum(t.ent_type_ in _NUMERIC_ENTS or t.like_num for t in words)
    person = sum(t.ent_type_ == "PERSON" for t in words)
    if 2 * numeric >= len(words):
        return 0.3
    return 0.6 if 2 * person >= len(words) else 1.0


# ---------------------------------------------------------------------------------------------
# Detectors


def detect_text(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Clauses and noun phrases of the call, each with how much it reads like this field's value.

    Args:
        call: The parsed call.
        field: A field of kind `text` (any kind works: only its words and examples are read).

    Returns:
        One candidate per span, with the chance that it is the value, best first.
    """
    spans, x = features(call, field)
    if not spans:
        return []
    q = _named_more(call, _call_spans(call), quality(x))
    out = [Candidate(s, e, call.text[s:e], "text", round(float(p), 4))
           for (s, e), p in zip(spans, q, strict=True)]
    return sorted(out, key=lambda c: -c.quality)


@functools.lru_cache(maxsize=256)
def _choice_patterns(phrases: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Each phrase as its lower-case lemmas, by the same spaCy pipeline as the calls."""
    from audiohub.extraction.backends.local.nlp import load_spacy

    return [tuple(t.lemma_.lower() for t in doc if not t.is_punct)
            for doc in load_spacy().pipe(phrases)]


def _inflects(word: tuple[str, str], lemma: str) -> bool:
    """Whether a call's word (its lemma, its text) is `lemma` or a regular English inflection
    of it; the small model's lemmas miss some ("installed" -> "instal")."""
    said_lemma, said = word
    if said_lemma == lemma or said == lemma:
        return True
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    return said.startswith(stem) and said[len(stem):] in _INFLECTIONS


def detect_choice(call: CallView, field: FieldSpec) -> list[Candidate]:
    """Where the call says one of the field's choices: its value or a synonym as words, by lemma
    ("cancelled" for "cancel"), or a span that MiniLM reads as a paraphrase of it.

    Args:
        call: The parsed call.
        field: A field with `choices`.

    Returns:
        Candidates whose `value` is the choice's listed value, best first.
    """
    phrases: list[tuple[str, str, float]] = []
    for choice in field.choices:
        phrases.append((choice.value, choice.value, 1.0))
        phrases += [(choice.value, s, 0.95) for s in choice.synonyms]
    if not phrases:
        return []
    found: dict[tuple[int, int], Candidate] = {}

    def add(c: Candidate) -> None:
        key = (c.start, c.end)
        if key not in found or found[key].quality < c.quality:
            found[key] = c

    for value, phrase, weight in phrases:
        for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", call.text, re.I):
            add(Candidate(m.start(), m.end(), value, "choice", weight))
    words = [(t.lemma_.lower(), t.lower_) for t in call.doc]
    patterns = _choice_patterns(tuple(p for _, p, _ in phrases))
    for (value, _, weight), pattern in zip(phrases, patterns, strict=True):
        n = len(pattern)
        for i in range(len(words) - n + 1) if n else ():
            if all(_inflects(w, lemma) for w, lemma in zip(words[i:i + n], pattern, strict=True)):
                last = call.doc[i + n - 1]
                add(Candidate(call.doc[i].idx, last.idx + len(last), value, "choice",
                              0.9 * weight))
    cs = _call_spans(call)
    if cs.spans:
        sims = cs.vectors @ _embed_cached(tuple(p for _, p, _ in phrases)).T
        for k, (s, e) in enumerate(cs.spans):
            best = int(sims[k].argmax())
            if sims[k, best] >= _PARAPHRASE and not any(
                    c.start < e and s < c.end for c in found.values()):
                q = 0.5 + 0.4 * float(_calibrated(float(sims[k, best])))
                add(Candidate(s, e, phrases[best][0], "choice", round(q, 4)))
    return _offered_lists(call, sorted(found.values(), key=lambda c: -c.quality))


@functools.lru_cache(maxsize=256)
def _embed_cached(texts: tuple[str, ...]) -> F32:
    return _embed(texts)


def _offered_lists(call: CallView, found: list[Candidate]) -> list[Candidate]:
    """A sentence naming two or more different choices offers them ("standard or express?"):
    none of its mentions is the one chosen, so each weighs less."""
    values: dict[int, set[str]] = {}
    for c in found:
        values.setdefault(call.sentence(c.start), set()).add(c.value)
    out = [Candidate(c.start, c.end, c.value, c.kind, round(c.quality * 0.5, 4))
           if len(values[call.sentence(c.start)]) > 1 else c for c in found]
    return sorted(out, key=lambda c: -c.quality)


def _polarity(call: CallView, sent: int) -> tuple[str, Span] | None:
    """A sentence's yes or no: its leading answer word, else a negation anywhere in it
    ("I don't", "never") for no, else an affirmative statement for yes."""
    s, e = call.sents[sent]
    tokens = [t for t in call.doc.char_span(s, e, alignment_mode="expand") or ()
              if not t.is_punct and not t.is_space]
    if not tokens:
        return None
    lead = tokens[0]
    for t in tokens[:3]:  # "oh yes", "um, no"
        if t.lower_ in _YES or t.lower_ in _NO:
            lead = t
            break
    if lead.lower_ in _YES | _NO:
        value = "no" if lead.lower_ in _NO else "yes"
        # "yes I do", "no I don't": the reply's first clause is the answer's words
        end = next((t for t in tokens if t.i > lead.i and t.text in _CUT_TEXT), None)
        last = tokens[-1] if end is None else call.doc[end.i - 1]
        stop = min(last.idx + len(last), lead.idx + 40)
        return value, (lead.idx, stop if last.i > lead.i else lead.idx + len(lead))
    negated = any(t.dep_ == "neg" or t.lower_ in _NO for t in tokens)
    return ("no" if negated else "yes"), (tokens[0].idx, tokens[-1].idx + len(tokens[-1]))


def detect_yes_no(call: CallView, field: FieldSpec) -> list[Candidate]:
    """A yes/no answer to this field: the reply to a question that asks it, or a statement of
    it, as "yes" or "no".

    Args:
        call: The parsed call.
        field: A field of kind `yes_no`.

    Returns:
        Candidates with value "yes" or "no", best first.
    """
    cs = _call_spans(call)
    if not cs.spans:
        return []
    fv = vectors_of(field)
    # The question that asks the field is made of the field's words: likeness to what the
    # field is about, not to a value, finds it.
    sims = _about(cs, fv)[1]
    # Each sentence as its best clause.
    per_sent: dict[int, float] = {}
    for k, sent in enumerate(cs.sents):
        per_sent[sent] = max(per_sent.get(sent, -1.0), float(sims[k]))
    out: list[Candidate] = []
    for sent, sim in sorted(per_sent.items()):
        if sim < _ASKS_FIELD:
            continue
        fit = float(_calibrated(sim))
        if call.is_question(sent):
            reply = _reply(call, sent)
            read = _polarity(call, reply) if reply is not None else None
            if read:
                value, (s, e) = read
                out.append(Candidate(s, e, value, "yes_no", round(0.4 + 0.6 * fit, 4)))
        else:
            read = _polarity(call, sent)
            if read:
                value, (s, e) = read
                out.append(Candidate(s, e, value, "yes_no", round(0.3 + 0.5 * fit, 4)))
    return sorted(out, key=lambda c: -c.quality)


def _reply(call: CallView, asked: int) -> int | None:
    """The sentence that answers question `asked`: the next one said by the other side, or
    the next one when who speaks is unknown."""
    for nxt in range(asked + 1, min(asked + 3, len(call.sents))):
        if call.by_agent(nxt) != call.by_agent(asked):
            return nxt
    return asked + 1 if asked + 1 < len(call.sents) else None
