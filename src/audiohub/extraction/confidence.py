"""Per-call confidence: how sure the pipeline is, and whether a person should look at the call.

A mean word probability hides a garbled stretch: a telephone call heard as "my name is Card One,
stolen this morning" still averaged 0.765. Whisper says more per segment, so the review also
weighs the share of speech time in segments its own signals mark unreliable:

- a low mean token log-probability (the decoder was unsure of the whole segment);
- a compression ratio over 2.4 (Whisper's own sign of a looping decode);
- text where Whisper itself thought there was no speech (no-speech probability over 0.6);
- a run of consecutive low-probability words (a name or a sentence turned into other words).

The thresholds were chosen on the tuning calls to separate those whose WER is over 0.25 from
the rest (README "Accuracy" has the precision and recall).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from audiohub.config import ReviewSettings
from audiohub.domain import Classification, Evidence, Segment, Transcript

# Whisper's own thresholds (faster-whisper's defaults for a failed decode).
MAX_COMPRESSION_RATIO = 2.4
NO_SPEECH_PROB = 0.6


@dataclass(frozen=True)
class Review:
    mean_word_probability: float | None
    needs_review: bool
    reasons: list[str]
    unreliable_speech_share: float | None = None


def _longest_low_run(segment: Segment, below: float) -> int:
    run = best = 0
    for w in segment.words:
        run = run + 1 if w.probability < below else 0
        best = max(best, run)
    return best


def unreliable(segment: Segment, settings: ReviewSettings) -> bool:
    """Whether Whisper's signals for this segment say its words cannot be trusted."""
    return (segment.avg_logprob < settings.unreliable_logprob
            or segment.compression_ratio > MAX_COMPRESSION_RATIO
            or (segment.no_speech_prob > NO_SPEECH_PROB and bool(segment.text.strip()))
            or _longest_low_run(segment, settings.low_word_probability)
            >= settings.low_word_run)


def unreliable_speech_share(transcript: Transcript, settings: ReviewSettings) -> float | None:
    """Share of the segments' speech time in unreliable segments; None when the recogniser
    gives no such signals (Gemini) or the transcript has no timed speech."""
    if not transcript.word_probabilities:
        return None
    spoken = [(s.end - s.start, unreliable(s, settings)) for s in transcript.segments
              if s.end > s.start]
    total = sum(d for d, _ in spoken)
    if total <= 0:
        return None
    return round(sum(d for d, bad in spoken if bad) / total, 4)


def review(
    transcript: Transcript, classification: Classification | None, evidence: dict[str, Evidence],
    settings: ReviewSettings, languages: Collection[str] | None = None,
) -> Review:
    """Flag calls whose classification is weak or ambiguous, whose words were poorly
    recognised, whose text was cut by the hallucination guard or left speech uncovered, whose
    language the analyzer cannot read (`languages`; None: any), or that hold unfound values.
    A call whose classification is not known (None: the caller sent none) is not judged on it."""
    probs = ([w.probability for s in transcript.segments for w in s.words]
             if transcript.word_probabilities else [])
    mean = round(sum(probs) / len(probs), 4) if probs else None
    share = unreliable_speech_share(transcript, settings)
    reasons: list[str] = []
    if not transcript.text.strip():
        reasons.append("no speech was recognised")
    else:
        if languages is not None and transcript.language not in languages:
            reasons.append(f"the call's language ({transcript.language}) is not one the "
                           f"analyzer reads ({', '.join(sorted(languages))})")
        if classification is not None and (
                classification.score < settings.min_classification_score):
            # Three places: at two, a value just under the threshold reads as equal to it.
            reasons.append(f"classification score {classification.score:.3f} is under "
                           f"{settings.min_classification_score:.2f}")
        if classification is not None and classification.margin < settings.min_margin:
            reasons.append(f"the top two categories are within {classification.margin:.3f} "
                           f"(under {settings.min_margin:.2f})")
        if mean is not None and mean < settings.min_word_probability:
            reasons.append(f"mean word probability {mean:.3f} is under "
                           f"{settings.min_word_probability:.2f}")
        if share is not None and share > settings.max_unreliable_share:
            reasons.append(f"unreliable speech: {share:.0%} of the speech is in segments "
                           f"Whisper marks unreliable (over {settings.max_unreliable_share:.0%})")
    uncovered = [f for f in transcript.flags if f.startswith("uncovered_speech")]
    if uncovered:
        reasons.append(f"speech with no words in the transcript ({len(uncovered)}x "
                       "uncovered_speech, see transcript_flags)")
    if len(transcript.flags) > len(uncovered):
        reasons.append(f"text was removed or lost ({len(transcript.flags) - len(uncovered)}x, "
                       "see transcript_flags)")
    ungrounded = sorted(k for k, e in evidence.items() if not e.grounded)
    if ungrounded:
        reasons.append(f"values not found in the transcript: {', '.join(ungrounded)}")
    return Review(mean, bool(reasons), reasons, share)
