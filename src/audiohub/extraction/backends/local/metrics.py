"""The general metrics of a call, offline: VADER sentiment, cue rules, extractive summary.

Every rule here reads the transcript only, so a metric can always be traced back to the words
that produced it; none needs a model beyond the spaCy pipeline and VADER's lexicon.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Set as AbstractSet
from typing import Literal

from spacy.language import Language
from spacy.tokens import Doc, Span
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from audiohub.domain import (
    CategorySpec,
    Classification,
    GeneralMetrics,
    SegmentSentiment,
    Sentiment,
    SentimentScore,
    Transcript,
)
from audiohub.extraction.backends.local.nlp import ADDRESS, NUMBER_RUN, number_value, parse
from audiohub.extraction.timing import longest_silence, speaker_timing, timed_words, timing

Label = Literal["positive", "neutral", "negative"]
Outcome = Literal["resolved", "unresolved", "follow_up_required", "transferred"]

_TRANSFER = re.compile(r"\btransfer(?:ring)? you\b|\bconnect(?:ing)? you (?:to|with)\b"
                       r"|\bput(?:ting)? you through\b", re.I)
# "follow up" the verb, not "a follow-up appointment", which is a reason to call, not an outcome.
_FOLLOW_STRONG = re.compile(r"\b(?:call|get|ring) you back\b|\bfollow(?:ing)? up\b"
                            r"|\bget back to you\b|\breach out to you\b", re.I)
_FOLLOW_WEAK = re.compile(r"\bwithin (?:\w+ )?(?:to \w+ )?(?:business |working )?(?:days|hours)\b"
                          r"|\bwe(?:'ll| will) send\b", re.I)
_DONE = re.compile(r"\b(?:has|have|had|'ve|is|are|was|were)\s+(?:been\s+)?(?:now\s+|already\s+"
                   r"|successfully\s+)?(?:blocked|cancell?ed|processed|booked|scheduled|refunded"
                   r"|issued|credited|reversed|removed|connected|filed|submitted|approved"
                   r"|confirmed|updated|changed|renewed|reset|fixed|resolved)\b|\ball set\b", re.I)
_COMMIT = re.compile(r"\b(?:I will|I'll|we will|we'll|please|you will receive|you'll receive"
                     r"|you will get|you'll get|I'm going to|we're going to)\b|\b(?:will|'ll) "
                     r"(?:call|contact|email|send|reach out|get back)\b", re.I)
_NEGATED = re.compile(r"(?:\b(?:not|never|nobody|no one)|n't)\s+(?:\w+\s+)?$", re.I)
_NOT_COMMIT = re.compile(r"\bplease (?:hold|wait|bear)\b", re.I)
_AGENT = re.compile(r"thank(?:s| you) for calling|\bspeaking\b|how (?:can|may) I help", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b\w+(?: dot \w+)* at \w+ dot (?:com|net|org"
                    r"|edu|co)\b", re.I)
_PHONE_CUE = re.compile(r"\b(?:phone|cell|mobile)(?: number)?\b|\b(?:call|reach) me at\b", re.I)
_CARD_CUE = re.compile(r"\bcard\b|\bend(?:s|ing) (?:in|with)\b|\blast (?:four|4)\b", re.I)
_ACCOUNT_CUE = re.compile(r"\b(?:account|policy|member|customer)(?: number| ID| no)?\b", re.I)
_DOB_CUE = re.compile(r"\bdate of birth\b|\bborn\b|\bbirthday\b|\bDOB\b", re.I)
_ADDRESS_CUE = re.compile(r"\baddress is\b", re.I)
_TOPIC_POS = frozenset({"NOUN", "PROPN", "ADJ"})
_NOT_TOPIC = frozenset({"PERSON", "DATE", "TIME", "MONEY", "CARDINAL", "ORDINAL", "QUANTITY",
                        "PERCENT"})


def build_metrics(transcript: Transcript, classification: Classification, nlp: Language,
                  analyzer: SentimentIntensityAnalyzer, spec: CategorySpec | None = None
                  ) -> GeneralMetrics:
    """Compute the general metrics of one call.

    Args:
        transcript: the call, with segment and word timings where the recogniser gave them.
        classification: its domain/category; its score and margin are copied through.
        nlp: the spaCy pipeline (`nlp.load_spacy()`).
        analyzer: a VADER analyzer.
        spec: the category, whose description steers the summary and topics; without it the
            domain and category names do.

    Returns:
        The metrics; an empty transcript gives neutral 0.0 sentiment, "unresolved", empty lists
        and an empty summary.
    """
    talk, silence, wpm = timing(transcript)
    speakers, interruptions = speaker_timing(transcript)
    text = transcript.text
    summary = ""
    topics: list[str] = []
    actions: list[str] = []
    pii: list[str] = []
    if text.strip():
        doc = parse(nlp, text)
        about = (spec.description if spec else "") + " " + " ".join(
            re.split(r"[_\s]+", f"{classification.domain} {classification.category}"))
        lemmas = _content_lemmas(nlp, about)
        summary, topics = summarize(doc, lemmas), key_topics(doc, lemmas)
        actions, pii = action_items(doc), pii_types(doc)
    return GeneralMetrics(
        summary=summary,
        sentiment=sentiment(transcript, analyzer),
        call_outcome=call_outcome(text),
        key_topics=topics,
        action_items=actions,
        pii_detected=pii,
        duration_seconds=transcript.duration,
        language=transcript.language,
        talk_time_seconds=talk,
        silence_ratio=silence,
        words_per_minute=wpm,
        longest_silence_seconds=longest_silence(transcript),
        speakers=speakers,
        interruptions=interruptions,
        classification_score=classification.score,
        classification_margin=classification.margin,
    )


@functools.lru_cache(maxsize=64)
def _content_lemmas(nlp: Language, text: str) -> frozenset[str]:
    """The words a category is about; parsed once per category, not once per call."""
    return frozenset(t.lemma_.lower() for t in nlp(text) if t.is_alpha and not t.is_stop)


def _label(score: float) -> Label:
    return "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"


def sentiment(transcript: Transcript, analyzer: SentimentIntensityAnalyzer) -> Sentiment:
    """VADER compound per segment, overall as the duration-weighted mean of the segments, and per
    speaker on all of that speaker's words when speakers are known."""
    parts = [(s.text, s.start, s.end) for s in transcript.segments if s.text.strip()]
    if not parts and transcript.text.strip():  # a transcript built from text alone
        parts = [(transcript.text, 0.0, transcript.duration)]
    if not parts:
        return Sentiment(label="neutral", score=0.0)
    scores = [float(analyzer.polarity_scores(t)["compound"]) for t, _, _ in parts]
    weights = [max(end - start, 0.0) for _, start, end in parts]
    if sum(weights) <= 0:
        weights = [1.0] * len(parts)  # no timings: every segment counts the same
    overall = sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights)
    segments = [SegmentSentiment(label=_label(s), score=round(s, 4), start=start, end=end)
                for s, (_, start, end) in zip(scores, parts, strict=True)]
    said: dict[str, list[str]] = defaultdict(list)
    for w in timed_words(transcript):
        if w.speaker is not None:
            said[w.speaker].append(w.word.strip())
    # Words, not segments: a segment can hold the end of one turn and the start of the next.
    speakers: dict[str, SentimentScore] = {}
    for who, words in said.items():
        score = float(analyzer.polarity_scores(" ".join(words))["compound"])
        speakers[who] = SentimentScore(label=_label(score), score=round(score, 4))
    return Sentiment(label=_label(overall), score=round(overall, 4), segments=segments,
                     speakers=speakers)


def call_outcome(text: str) -> Outcome:
    """Transferred if the agent hands the call on; else follow-up cues against done cues.

    A call where the card "has been blocked" and "we'll send" a new one is resolved; a promise to
    "call you back" outweighs a single done action.
    """
    if _TRANSFER.search(text):
        return "transferred"
    # "nobody has fixed it" is the opposite of done.
    done = sum(1 for m in _DONE.finditer(text) if not _NEGATED.search(text[:m.start()]))
    done += 1 if re.search(r"\banything else\b", text, re.I) and re.search(
        r"\bthank", text, re.I) else 0
    follow = 2 * len(_FOLLOW_STRONG.findall(text)) + len(_FOLLOW_WEAK.findall(text))
    if follow > done:
        return "follow_up_required"
    return "resolved" if done else "unresolved"


def summarize(doc: Doc, about: AbstractSet[str], limit: int = 3) -> str:
    """The 1-3 sentences that share most words with the category and name the most entities."""
    scored: list[tuple[float, int, Span]] = []
    # Entity starts once for the whole call: Span.ents walks every entity of the Doc each time.
    ents = sorted(e.start_char for e in doc.ents if e.label_ not in ("CARDINAL", "ORDINAL"))
    for i, sent in enumerate(doc.sents):
        words = [t for t in sent if t.is_alpha]
        if len(words) < 4:
            continue  # "Okay.", "Thank you." carry nothing
        overlap = len({t.lemma_.lower() for t in words if not t.is_stop} & about)
        named = bisect.bisect_left(ents, sent.end_char) - bisect.bisect_left(ents, sent.start_char)
        named += sum(1 for m in NUMBER_RUN.finditer(sent.text) if number_value(m.group()))
        score = (overlap + 0.5 * named) * (0.5 if _AGENT.search(sent.text) else 1.0)
        scored.append((score, -i, sent))
    if not scored:
        return ""
    best = sorted(scored, key=lambda s: s[:2], reverse=True)[:limit]
    best = [b for b in best if b[0] > 0] or best[:1]
    return " ".join(s.text.strip() for _, _, s in sorted(best, key=lambda s: -s[1]))


def key_topics(doc: Doc, about: AbstractSet[str], limit: int = 5) -> list[str]:
    """Up to `limit` lemmatised noun phrases, most frequent first; names and numbers left out."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    codes = [m.span() for m in NUMBER_RUN.finditer(doc.text) if number_value(m.group())]
    for chunk in doc.noun_chunks:
        toks = [t for t in chunk if t.is_alpha and not t.is_stop and t.pos_ in _TOPIC_POS
                and t.ent_type_ not in _NOT_TOPIC  # "PL" of "PL 12345" is no topic either
                and not any(s <= t.idx < e for s, e in codes)]
        if not any(t.pos_ != "ADJ" for t in toks):
            continue
        topic = " ".join(t.lemma_.lower() for t in toks)
        counts[topic] += 1 + (1 if any(t.lemma_.lower() in about for t in toks) else 0)
        first.setdefault(topic, chunk.start)
    picked: list[str] = []
    for topic in sorted(counts, key=lambda k: (-counts[k], first[k])):
        if not any(set(topic.split()) <= set(p.split()) for p in picked):
            picked.append(topic)
    return picked[:limit]


def action_items(doc: Doc) -> list[str]:
    """Statements that commit someone to act ("we'll send", "please call"), not questions."""
    items: list[str] = []
    for sent in doc.sents:
        said = sent.text.strip()
        if said.endswith("?") or said in items or _NOT_COMMIT.search(said):
            continue
        if _COMMIT.search(said):
            items.append(said)
    return items


def _cued(text: str, cue: re.Pattern[str], spans: list[tuple[int, int]], window: int) -> bool:
    """Whether a span starts within `window` characters after a cue."""
    return any(0 <= s - m.end() <= window for m in cue.finditer(text) for s, _ in spans)


def pii_types(doc: Doc) -> list[str]:
    """The kinds of personal data said in the call, sorted."""
    text = doc.text
    runs = [(m.span(), v) for m in NUMBER_RUN.finditer(text)
            if (v := number_value(m.group())) is not None]
    digits = [(span, v) for span, v in runs if v.isdigit()]
    found = set()
    if any(e.label_ == "PERSON" for e in doc.ents):
        found.add("person_name")
    phones = [span for span, v in digits if 10 <= len(v) <= 11]
    if phones or _cued(text, _PHONE_CUE, [s for s, v in digits if len(v) >= 7], 30):
        found.add("phone_number")
    if _EMAIL.search(text):
        found.add("email")
    if any(13 <= len(v) <= 19 for _, v in digits) or _cued(
            text, _CARD_CUE, [s for s, v in digits if len(v) == 4 or len(v) >= 13], 40):
        found.add("card_number")
    if _cued(text, _ACCOUNT_CUE, [s for s, v in runs if s not in phones], 40):
        found.add("account_number")
    dates = [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "DATE"]
    if _cued(text, _DOB_CUE, dates, 60):
        found.add("date_of_birth")
    if ADDRESS.search(text) or _ADDRESS_CUE.search(text):
        found.add("address")
    return sorted(found)


