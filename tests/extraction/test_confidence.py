"""The review's transcript checks: Whisper's per-segment signals (unreliable speech), speech the
coverage check could not fill, and a language the analyzer cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiohub.config import AnalyzerSettings, ReviewSettings, WhisperSettings
from audiohub.domain import CategorySpec, Classification, FieldSpec, Segment, Transcript, Word
from audiohub.extraction.backends.local.analyzer import LocalAnalyzer
from audiohub.extraction.confidence import review, unreliable, unreliable_speech_share
from audiohub.extraction.service import ExtractionService
from audiohub.transcription.audio import decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from tests.extraction.transcripts import make_transcript

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
SURE = Classification(domain="banking", category="card_block", score=0.9, margin=0.5)
SETTINGS = ReviewSettings()


def _segment(start: float, end: float, probs: list[float], logprob: float = -0.2,
             compression: float = 1.3, no_speech: float = 0.05) -> Segment:
    words = [Word(word=f" w{i}", start=start + i * 0.3, end=start + i * 0.3 + 0.25,
                  probability=p) for i, p in enumerate(probs)]
    return Segment(id=0, start=start, end=end, text=" ".join(f"w{i}" for i in range(len(probs))),
                   words=words, avg_logprob=logprob, compression_ratio=compression,
                   no_speech_prob=no_speech)


@pytest.mark.parametrize(("segment", "bad"), [
    (_segment(0, 2, [0.9] * 6), False),
    (_segment(0, 2, [0.9] * 6, logprob=-0.8), True),
    (_segment(0, 2, [0.9] * 6, compression=2.6), True),
    (_segment(0, 2, [0.9] * 6, no_speech=0.7), True),
    # Three words in a row under 0.5: a name or a phrase heard as other words.
    (_segment(0, 2, [0.9, 0.3, 0.4, 0.2, 0.9]), True),
    # Two low words apart are ordinary.
    (_segment(0, 2, [0.3, 0.9, 0.3, 0.9, 0.3]), False),
])
def test_a_segment_is_unreliable_on_any_of_whispers_signals(segment: Segment, bad: bool) -> None:
    assert unreliable(segment, SETTINGS) is bad


def test_the_share_is_of_speech_time() -> None:
    good, poor = _segment(0, 3, [0.9] * 8), _segment(3, 4, [0.9] * 3, logprob=-1.2)
    tr = Transcript.from_segments([good, poor], "en", 4.0)
    assert unreliable_speech_share(tr, SETTINGS) == 0.25
    # No signals of its own (Gemini), or no timed speech: no share.
    assert unreliable_speech_share(tr.model_copy(update={"word_probabilities": False}),
                                   SETTINGS) is None
    assert unreliable_speech_share(Transcript(text="", language="en", duration=1.0),
                                   SETTINGS) is None


def test_a_call_mostly_in_unreliable_segments_is_reviewed() -> None:
    segments = [_segment(0, 2, [0.95] * 5), _segment(2, 5, [0.95] * 8, logprob=-0.7)]
    tr = Transcript.from_segments(segments, "en", 5.0)
    verdict = review(tr, SURE, {}, SETTINGS)
    # The mean word probability (0.95) alone would pass it.
    assert verdict.mean_word_probability == 0.95
    assert verdict.unreliable_speech_share == 0.6
    assert verdict.needs_review
    assert [r for r in verdict.reasons if r.startswith("unreliable speech")] == [
        "unreliable speech: 60% of the speech is in segments Whisper marks unreliable "
        "(over 40%)"]
    off = ReviewSettings(max_unreliable_share=1.0)
    assert review(tr, SURE, {}, off).needs_review is False


def test_uncovered_speech_and_other_flags_are_separate_reasons() -> None:
    tr = make_transcript(["Hello, how can I help?"], flags=[
        "uncovered_speech 0.0-4.2s: 3.9 s of speech with no words, also when decoded again on "
        "its own", "dropped 5.0-6.0s: marked as no speech (p=0.90): 'thanks'"])
    reasons = review(tr, SURE, {}, SETTINGS).reasons
    assert reasons == [
        "speech with no words in the transcript (1x uncovered_speech, see transcript_flags)",
        "text was removed or lost (1x, see transcript_flags)"]


def test_a_language_the_analyzer_cannot_read_is_reviewed() -> None:
    tr = make_transcript(["Guten Tag, wie kann ich helfen?"]).model_copy(
        update={"language": "de"})
    verdict = review(tr, SURE, {}, SETTINGS, languages=frozenset({"en"}))
    assert verdict.reasons == [
        "the call's language (de) is not one the analyzer reads (en)"]
    # An analyzer that reads any language (the LLMs) has no such reason.
    assert review(tr, SURE, {}, SETTINGS, languages=None).needs_review is False


def test_the_garbled_8k_call_is_reviewed_for_its_unreliable_speech(tmp_path: Path) -> None:
    # Whisper base hears the 8 kHz copy as "if it's non-carter, my credit card won't stolen":
    # its mean word probability passes, its segments' own signals do not. float32, not the
    # default int8: int8 kernels differ by CPU (AVX-512 VNNI or not), and this call's mean token
    # log-probability sits near the threshold (-0.48 with int8 on an AMD EPYC, -0.51 in float32).
    whisper = FasterWhisperTranscriber(WhisperSettings(model="base", compute_type="float32"),
                                       tmp_path)
    tr = whisper.transcribe(decode_file(AUDIO / "banking_card_block_8k.wav"))
    verdict = review(tr, SURE, {}, SETTINGS)
    assert verdict.mean_word_probability is not None
    assert verdict.mean_word_probability >= SETTINGS.min_word_probability
    assert verdict.needs_review
    assert any(r.startswith("unreliable speech") for r in verdict.reasons)


def test_the_extraction_service_fills_the_transcript_metrics() -> None:
    spec = CategorySpec(domain="banking", category="card_block", description="Block a card.",
                        prompt="Extract.", fields=[FieldSpec(name="customer_name")])
    tr = make_transcript(["Guten Tag, hier ist die Bank.", "Meine Karte ist weg."]).model_copy(
        update={"language": "de", "speech_coverage": 0.97})
    result = ExtractionService(LocalAnalyzer(AnalyzerSettings())).extract(tr, SURE, spec)
    m = result.general_metrics
    assert (m.language, m.speech_coverage, m.unreliable_speech_share) == ("de", 0.97, 0.0)
    assert m.corrections == []
    assert m.needs_review
    assert "the call's language (de) is not one the analyzer reads (en)" in m.review_reasons


def test_an_unknown_classification_is_not_judged() -> None:
    tr = make_transcript(["Hello, I lost my card.", "I've blocked it for you."])
    weak = Classification(domain="banking", category="card_block", score=0.0, margin=0.0)

    assert review(tr, None, {}, SETTINGS).reasons == []
    assert [r.split(" ")[0] for r in review(tr, weak, {}, SETTINGS).reasons] == [
        "classification", "the"]
