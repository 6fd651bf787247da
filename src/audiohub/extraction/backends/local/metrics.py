"""The general metrics of a call, offline: VADER sentiment, cue rules, extractive summary.

Every rule here reads the transcript only, so a metric can always be traced back to the words
that produced it; none needs a model beyond the spaCy pipeline and VADER's lexicon.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Literal

from spacy.language import Language
from spacy.tokens import Doc, Span, Token
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
from audiohub.extraction.backends.local.acts import Act, acts
from audiohub.extraction.backends.local.nlp import parse
from audiohub.extraction.timing import longest_silence, speaker_timing, timed_words, timing
from audiohub.numberwords import DIGIT_WORDS, REPEAT_WORDS, spoken_digits

Label = Literal["positive", "neutral", "negative"]
# A run of spoken digits: (start, end, the digits said).
NumberRun = tuple[int, int, str]
Outcome = Literal["resolved", "unresolved", "follow_up_required", "transferred"]

_AGENT = re.compile(r"thank(?:s| you) for calling|\bspeaking\b|how (?:can|may) I help", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b\w+(?: dot \w+)* at \w+ dot (?:com|net|org"
                    r"|edu|co)\b", re.I)
_PHONE_CUE = re.compile(r"\b(?:phone|cell|mobile)(?: number)?\b|\b(?:call|reach) me at\b", re.I)
_CARD_CUE = re.compile(r"\bcard\b|\bend(?:s|ing) (?:in|with)\b|\blast (?:four|4)\b", re.I)
_ACCOUNT_CUE = re.compile(r"\b(?:account|policy|member|customer)(?: number| ID| no)?\b", re.I)
_DOB_CUE = re.compile(r"\bdate of birth\b|\bborn\b|\bbirthday\b|\bDOB\b", re.I)
_ADDRESS_CUE = re.compile(r"\baddress is\b", re.I)
# The last sentences of a call and the VADER compound above which they thank or praise.
_CLOSING = 2
_ENDS_WELL = 0.3
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
    outcome: Outcome = "unresolved"
    if text.strip():
        doc = parse(nlp, text)
        about = (spec.description if spec else "") + " " + " ".join(
            re.split(r"[_\s]+", f"{classification.domain} {classification.category}"))
        lemmas = _content_lemmas(nlp, about)
        runs = number_runs(doc)  # read once: the summary, the topics and the PII types use them
        summary, topics = summarize(doc, lemmas, runs), key_topics(doc, lemmas, runs)
        said = acts(doc)
        outcome, actions = call_outcome(doc, said, analyzer), action_items(said)
        pii = pii_types(doc, runs)
    return GeneralMetrics(
        summary=summary,
        sentiment=sentiment(transcript, analyzer),
        call_outcome=outcome,
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


def call_outcome(doc: Doc, said: Sequence[Act], analyzer: SentimentIntensityAnalyzer
                 ) -> Outcome:
    """What the call's acts settle, in this order: a transfer; a promised later call or visit
    (unless only "if" something happens); a refusal said after everything done; something done
    or promised ("I've blocked it", "I'll refund it"); else a call that ends on thanks or
    praise (a question answered) is resolved, and any other unresolved."""
    if any(a.kind == "transfer" for a in said):
        return "transferred"
    if any(a.follow_up and not a.conditional for a in said):
        return "follow_up_required"
    settled = [a.start for a in said
               if a.kind == "done" or (a.kind == "promise" and not a.conditional)]
    refused = [a.start for a in said if a.kind == "refusal"]
    if refused and (not settled or max(refused) > max(settled)):
        return "unresolved"
    if settled:
        return "resolved"
    # The opening sentence states why the caller rings ("I'd like ..."); it closes nothing.
    closing = " ".join(s.text for s in list(doc.sents)[1:][-_CLOSING:])
    ends_well = analyzer.polarity_scores(closing)["compound"] >= _ENDS_WELL
    return "resolved" if ends_well else "unresolved"


def summarize(doc: Doc, about: AbstractSet[str], runs: list[NumberRun], limit: int = 3) -> str:
    """The 1-3 sentences that share most words with the category and name the most entities
    (`runs`: the call's `number_runs`)."""
    scored: list[tuple[float, int, Span]] = []
    # Entity starts once for the whole call: Span.ents walks every entity of the Doc each time.
    ents = sorted(e.start_char for e in doc.ents if e.label_ not in ("CARDINAL", "ORDINAL"))
    for i, sent in enumerate(doc.sents):
        words = [t for t in sent if t.is_alpha]
        if len(words) < 4:
            continue  # "Okay.", "Thank you." carry nothing
        overlap = len({t.lemma_.lower() for t in words if not t.is_stop} & about)
        named = bisect.bisect_left(ents, sent.end_char) - bisect.bisect_left(ents, sent.start_char)
        named += sum(1 for start, _, _ in runs if sent.start_char <= start < sent.end_char)
        score = (overlap + 0.5 * named) * (0.5 if _AGENT.search(sent.text) else 1.0)
        scored.append((score, -i, sent))
    if not scored:
        return ""
    best = sorted(scored, key=lambda s: s[:2], reverse=True)[:limit]
    best = [b for b in best if b[0] > 0] or best[:1]
    return " ".join(s.text.strip() for _, _, s in sorted(best, key=lambda s: -s[1]))


def key_topics(doc: Doc, about: AbstractSet[str], runs: list[NumberRun],
               limit: int = 5) -> list[str]:
    """Up to `limit` lemmatised noun phrases, most frequent first; names and numbers (`runs`)
    left out."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    # A code's letters ("PL" of "PL 12345") stand just before its digits.
    codes = {t.i for t in doc if t.is_upper and t.i + 1 < len(doc)
             and any(doc[t.i + 1].idx == start for start, _, _ in runs)}
    for chunk in doc.noun_chunks:
        toks = [t for t in chunk if t.is_alpha and not t.is_stop and t.pos_ in _TOPIC_POS
                and t.ent_type_ not in _NOT_TOPIC  # "PL" of "PL 12345" is no topic either
                and t.i not in codes]
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


def action_items(said: Sequence[Act]) -> list[str]:
    """What someone committed to do after the call ("I'll send a new card", "an adjuster will
    call you") and what the caller was asked to do ("please bring your card"), as said."""
    items: list[str] = []
    for act in said:
        if act.kind in ("promise", "request") and act.text not in items:
            items.append(act.text)
    return items


def number_runs(doc: Doc) -> list[NumberRun]:
    """Runs of number words and digits ("four five six seven", "7 7 1 2", "double seven oh
    one") as (start, end, the digits said); runs that say no digit are left out."""
    runs: list[NumberRun] = []
    run: list[Token] = []
    for tok in [*doc, None]:
        if tok is not None and (tok.like_num or (run and tok.lower_ in DIGIT_WORDS)
                                or tok.lower_ in REPEAT_WORDS):
            run.append(tok)
            continue
        if run:
            start, end = run[0].idx, run[-1].idx + len(run[-1])
            if said := spoken_digits(doc.text[start:end]):
                runs.append((start, end, said))
            run = []
    return runs


def _house_and_street(doc: Doc) -> bool:
    """A house number before a named place: "12 Elm Street", "fifty nine Kingfisher Road"."""
    if any(e.label_ == "FAC" and e[0].like_num for e in doc.ents):
        return True
    for tok in doc[:-2]:
        after = doc[tok.i + 1:tok.i + 3]
        if tok.pos_ == "NUM" and not doc[tok.i + 1].like_num and all(
                t.pos_ == "PROPN" and t.is_title for t in after):
            return True
    return False


def _cued(text: str, cue: re.Pattern[str], spans: list[tuple[int, int]], window: int) -> bool:
    """Whether a span starts within `window` characters after a cue."""
    return any(0 <= s - m.end() <= window for m in cue.finditer(text) for s, _ in spans)


def pii_types(doc: Doc, said: list[NumberRun]) -> list[str]:
    """The kinds of personal data said in the call, sorted (`said`: its `number_runs`)."""
    text = doc.text
    runs = [((start, end), v) for start, end, v in said]
    digits = runs
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
    if _ADDRESS_CUE.search(text) or _house_and_street(doc):
        found.add("address")
    return sorted(found)


