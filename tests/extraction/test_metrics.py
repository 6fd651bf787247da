"""General metrics of a call: sentiment, outcome, summary, topics, PII and timing."""

from __future__ import annotations

import pytest
from spacy.language import Language
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from audiohub.domain import (
    CategorySpec,
    Classification,
    FieldSpec,
    GeneralMetrics,
    Segment,
    Transcript,
    Word,
)
from audiohub.extraction.backends.local.acts import acts
from audiohub.extraction.backends.local.metrics import build_metrics, call_outcome
from audiohub.extraction.timing import longest_silence, speaker_timing, timing
from tests.extraction.transcripts import make_transcript

CARD_BLOCK = CategorySpec(
    domain="banking", category="card_block", prompt="Extract the fields.",
    description="A bank customer calls to block, freeze or cancel a lost or stolen debit or credit "
                "card, giving the last four digits of the card so the bank can stop it.",
    fields=[FieldSpec(name="customer_name"), FieldSpec(name="card_last_four"),
            FieldSpec(name="reason")])
RESOLVED_CALL = [
    "First National Bank, how can I help?",
    "Hi, my name is David Chen. I lost my debit card yesterday.",
    "I'm sorry to hear that. What are the last four digits?", "It ends in 4 5 6 7.",
    "Thank you, Mr. Chen. The card ending in 4567 has been blocked.",
    "We'll send a replacement card to your address on file.",
    "Is there anything else I can help you with?",
    "No, that's all. Thank you so much, great service!"]




def _metrics(nlp: Language, vader: SentimentIntensityAnalyzer, transcript: Transcript,
             spec: CategorySpec | None = None) -> GeneralMetrics:
    classification = Classification(domain="banking", category="card_block", score=0.82,
                                    margin=0.31)
    return build_metrics(transcript, classification, nlp, vader, spec)


def test_empty_transcript_is_neutral_unresolved_and_empty(
        nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    m = _metrics(nlp, vader, Transcript(text="", language="en", duration=0.0))

    assert m.summary == ""
    assert (m.sentiment.label, m.sentiment.score, m.sentiment.segments) == ("neutral", 0.0, [])
    assert m.call_outcome == "unresolved"
    assert (m.key_topics, m.action_items, m.pii_detected) == ([], [], [])
    assert (m.duration_seconds, m.language) == (0.0, "en")
    assert (m.talk_time_seconds, m.silence_ratio, m.words_per_minute) == (None, None, None)
    assert (m.classification_score, m.classification_margin) == (0.82, 0.31)


def test_resolved_call(nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    transcript = make_transcript(RESOLVED_CALL)
    m = _metrics(nlp, vader, transcript, CARD_BLOCK)

    assert m.call_outcome == "resolved"
    assert m.sentiment.label == "positive"
    assert m.action_items == ["We'll send a replacement card to your address on file"]
    assert m.pii_detected == ["card_number", "person_name"]
    assert "debit card" in m.key_topics and len(m.key_topics) <= 5
    assert len(set(m.key_topics)) == len(m.key_topics)
    assert all(t == t.lower() and "chen" not in t for t in m.key_topics)
    # Extractive: 1-3 whole sentences of the call, the one about the lost card among them.
    sentences = [s.text for s in nlp(m.summary).sents]
    assert 1 <= len(sentences) <= 3 and all(s in transcript.text for s in sentences)
    assert "I lost my debit card yesterday." in sentences


def test_negative_call_and_per_segment_sentiment(
        nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    turns = ["This is ridiculous.", "I was charged twice and nobody has fixed it.",
             "I am really angry, your service is terrible and I hate waiting."]
    transcript = make_transcript(turns)
    m = _metrics(nlp, vader, transcript)

    assert m.sentiment.label == "negative" and m.sentiment.score <= -0.05
    assert [(s.start, s.end) for s in m.sentiment.segments] == [
        (seg.start, seg.end) for seg in transcript.segments]
    compounds = [vader.polarity_scores(seg.text)["compound"] for seg in transcript.segments]
    weights = [seg.end - seg.start for seg in transcript.segments]
    expected = sum(c * w for c, w in zip(compounds, weights, strict=True)) / sum(weights)
    assert m.sentiment.score == pytest.approx(expected, abs=1e-4)
    assert [s.score for s in m.sentiment.segments] == pytest.approx(compounds, abs=1e-4)
    assert m.call_outcome == "unresolved"  # "nobody has fixed it" is not a fix


def test_transferred_call(nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    transcript = make_transcript(["My internet has been down since this morning.",
                                  "Let me transfer you to our technical team.", "Okay."])
    assert _metrics(nlp, vader, transcript).call_outcome == "transferred"


@pytest.mark.parametrize(("text", "outcome"), [
    ("I've opened the claim. An adjuster will call you back within 2 business days.",
     "follow_up_required"),
    ("Let me connect you to our fraud department.", "transferred"),
    ("Your reservation has been cancelled. Anything else? No, thank you.", "resolved"),
    ("I'd like a follow-up appointment with Dr. Patel.", "unresolved"),
    ("I can't help with that, sorry.", "unresolved")])
def test_call_outcome_cues(nlp: Language, vader: SentimentIntensityAnalyzer, text: str,
                           outcome: str) -> None:
    doc = nlp(text)
    assert call_outcome(doc, acts(doc), vader) == outcome


def test_pii_types(nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    transcript = make_transcript([
        "My name is Laura Palmer and my date of birth is May 2nd, 1980.",
        "My account number is 7 7 1 2 0 0 5.", "You can reach me at 5 5 5 1 2 3 4 5 6 7.",
        "My email is laura dot palmer at gmail dot com.", "I live at 12 Elm Street, Twin Peaks."])
    m = _metrics(nlp, vader, transcript)

    assert m.pii_detected == ["account_number", "address", "date_of_birth", "email",
                              "person_name", "phone_number"]


def test_timing_metrics_from_hand_made_word_times() -> None:
    words = [Word(word=" Hello", start=0.0, end=0.5, probability=1.0),
             Word(word=" there,", start=0.4, end=1.0, probability=1.0),  # overlaps the first
             Word(word=" how", start=2.0, end=2.5, probability=1.0),
             Word(word=" are", start=3.0, end=3.5, probability=1.0),
             Word(word=" you?", start=3.5, end=4.0, probability=1.0)]  # touches the previous
    transcript = Transcript.from_segments(
        [Segment(id=0, start=0.0, end=1.0, text=" Hello there,", words=words[:2]),
         Segment(id=1, start=2.0, end=4.0, text=" how are you?", words=words[2:])], "en", 10.0)

    # Talk = [0, 1] + [2, 2.5] + [3, 4] = 2.5 s of 10 s; 5 words in 2.5 s = 120 per minute.
    assert timing(transcript) == (2.5, 0.75, 120.0)


def test_timing_without_words_or_duration() -> None:
    no_words = Transcript.from_segments(
        [Segment(id=0, start=0.0, end=2.0, text=" Hello.")], "en", 2.0)
    zero_length = Transcript.from_segments(
        [Segment(id=0, start=0.0, end=0.0, text=" Hi.",
                 words=[Word(word=" Hi.", start=0.0, end=0.0, probability=1.0)])], "en", 0.0)

    assert timing(no_words) == (None, None, None)
    assert timing(zero_length) == (0.0, None, None)


def test_metrics_copy_duration_language_and_timing(
        nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    transcript = make_transcript(["Hello, I have a question about my bill.", "Sure."])
    m = _metrics(nlp, vader, transcript)

    # 9 words of 0.3 s each, never overlapping: 2.7 s talk.
    assert m.duration_seconds == transcript.duration
    assert m.talk_time_seconds == pytest.approx(2.7)
    assert m.silence_ratio == pytest.approx(1 - 2.7 / transcript.duration, abs=1e-4)
    assert m.words_per_minute == pytest.approx(200.0)


def _spoken(*words: tuple[str, float, float, str | None], duration: float) -> Transcript:
    """One segment per word, each with the given speaker."""
    segments = [Segment(id=i, start=s, end=e, text=f" {w}",
                        words=[Word(word=f" {w}", start=s, end=e, probability=1.0, speaker=who)])
                for i, (w, s, e, who) in enumerate(words)]
    return Transcript.from_segments(segments, "en", duration)


# An agent and a customer; the customer cuts in at 1.8 s while the agent's "can" runs to 2.0 s.
TWO_PARTIES = _spoken(
    ("Hello,", 0.5, 1.0, "agent"), ("how", 1.0, 1.6, "agent"), ("can", 1.5, 2.0, "agent"),
    ("I", 1.8, 2.2, "customer"), ("hate", 2.2, 2.6, "customer"), ("this.", 2.6, 3.0, "customer"),
    ("Great,", 6.0, 6.5, "agent"), ("thanks!", 6.5, 7.0, "agent"),
    ("bye", 7.5, 8.0, "customer"), ("um", 9.0, 9.2, None), duration=12.0)


@pytest.mark.parametrize(("words", "duration", "longest"), [
    ([("a", 0.5, 3.0), ("b", 6.0, 7.0), ("c", 9.0, 9.2)], 12.0, 3.0),  # between words
    ([("a", 4.0, 5.0), ("b", 5.5, 6.0)], 7.0, 4.0),  # before the first word
    ([("a", 0.0, 1.0), ("b", 0.5, 2.0), ("c", 2.5, 3.0)], 10.0, 7.0),  # after the last
    ([("a", 0.0, 1.0), ("b", 0.2, 3.0), ("c", 3.5, 4.0)], 4.0, 0.5),  # overlaps merged first
])
def test_longest_silence(words: list[tuple[str, float, float]], duration: float,
                         longest: float) -> None:
    transcript = _spoken(*[(w, s, e, None) for w, s, e in words], duration=duration)
    assert longest_silence(transcript) == pytest.approx(longest)


def test_longest_silence_without_words_is_none() -> None:
    assert longest_silence(Transcript(text="", language="en", duration=5.0)) is None
    assert longest_silence(Transcript.from_segments(
        [Segment(id=0, start=0.0, end=2.0, text=" Hello.")], "en", 2.0)) is None


def test_per_speaker_talk_time_ratio_words_and_interruptions() -> None:
    speakers, interruptions = speaker_timing(TWO_PARTIES)

    # Agent: [0.5, 2.0] (its own overlap merged) + [6.0, 7.0] = 2.5 s; customer: [1.8, 3.0] +
    # [7.5, 8.0] = 1.7 s. The unlabelled "um" counts for nobody.
    assert speakers is not None and set(speakers) == {"agent", "customer"}
    agent, customer = speakers["agent"], speakers["customer"]
    assert agent.talk_time_seconds == pytest.approx(2.5) and agent.words == 5
    assert customer.talk_time_seconds == pytest.approx(1.7) and customer.words == 4
    assert agent.talk_ratio == pytest.approx(2.5 / 4.2, abs=1e-4)
    assert agent.talk_ratio + customer.talk_ratio == pytest.approx(1.0, abs=1e-3)
    # Only the customer's "I" starts before the previous speaker's last word has ended.
    assert interruptions == 1


def test_interruptions_count_each_overlapping_change() -> None:
    transcript = _spoken(("one", 0.0, 1.0, "agent"), ("two", 0.9, 1.5, "customer"),
                         ("three", 1.4, 2.0, "agent"), ("four", 3.0, 3.5, "customer"),
                         duration=4.0)
    assert speaker_timing(transcript)[1] == 2


def test_metrics_per_speaker(nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    m = _metrics(nlp, vader, TWO_PARTIES)

    assert m.longest_silence_seconds == pytest.approx(3.0)
    assert m.speakers is not None and set(m.speakers) == {"agent", "customer"}
    assert m.interruptions == 1
    said = {"agent": "Hello, how can Great, thanks!", "customer": "I hate this. bye"}
    for who, text in said.items():
        compound = vader.polarity_scores(text)["compound"]
        assert m.sentiment.speakers[who].score == pytest.approx(compound, abs=1e-4)
    assert m.sentiment.speakers["agent"].label == "positive"
    assert m.sentiment.speakers["customer"].label == "negative"
    # The whole-call numbers are those of a call without speakers.
    unlabelled = _metrics(nlp, vader, TWO_PARTIES.model_copy(update={"segments": [
        s.model_copy(update={"words": [w.model_copy(update={"speaker": None}) for w in s.words]})
        for s in TWO_PARTIES.segments]}))
    assert (m.talk_time_seconds, m.silence_ratio, m.words_per_minute) == (
        unlabelled.talk_time_seconds, unlabelled.silence_ratio, unlabelled.words_per_minute)
    assert (m.sentiment.score, m.sentiment.segments) == (
        unlabelled.sentiment.score, unlabelled.sentiment.segments)


def test_without_speakers_no_per_speaker_metrics(
        nlp: Language, vader: SentimentIntensityAnalyzer) -> None:
    m = _metrics(nlp, vader, make_transcript(RESOLVED_CALL))

    assert (m.speakers, m.interruptions, m.sentiment.speakers) == (None, None, {})
    # make_transcript leaves 0.1 s between words and 0.5 s more between turns and at the end.
    assert m.longest_silence_seconds == pytest.approx(0.6)
    empty = _metrics(nlp, vader, Transcript(text="", language="en", duration=0.0))
    assert (empty.speakers, empty.interruptions, empty.sentiment.speakers) == (None, None, {})
    assert empty.longest_silence_seconds is None
