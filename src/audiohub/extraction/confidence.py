"""Per-call confidence: how sure the pipeline is, and whether a person should look at the call."""

from __future__ import annotations

from dataclasses import dataclass

from audiohub.config import ReviewSettings
from audiohub.domain import Classification, Evidence, Transcript


@dataclass(frozen=True)
class Review:
    mean_word_probability: float | None
    needs_review: bool
    reasons: list[str]


def review(
    transcript: Transcript, classification: Classification, evidence: dict[str, Evidence],
    settings: ReviewSettings,
) -> Review:
    """Flag calls whose classification is weak or ambiguous, whose words were poorly
    recognised, whose text was cut by the hallucination guard, or that hold unfound values."""
    probs = ([w.probability for s in transcript.segments for w in s.words]
             if transcript.word_probabilities else [])
    mean = round(sum(probs) / len(probs), 4) if probs else None
    reasons: list[str] = []
    if not transcript.text.strip():
        reasons.append("no speech was recognised")
    else:
        if classification.score < settings.min_classification_score:
            # Three places: at two, a value just under the threshold reads as equal to it.
            reasons.append(f"classification score {classification.score:.3f} is under "
                           f"{settings.min_classification_score:.2f}")
        if classification.margin < settings.min_margin:
            reasons.append(f"the top two categories are within {classification.margin:.3f} "
                           f"(under {settings.min_margin:.2f})")
        if mean is not None and mean < settings.min_word_probability:
            reasons.append(f"mean word probability {mean:.3f} is under "
                           f"{settings.min_word_probability:.2f}")
    if transcript.flags:
        reasons.append(f"text was removed or lost ({len(transcript.flags)}x, see "
                       "transcript_flags)")
    ungrounded = sorted(k for k, e in evidence.items() if not e.grounded)
    if ungrounded:
        reasons.append(f"values not found in the transcript: {', '.join(ungrounded)}")
    return Review(mean, bool(reasons), reasons)
