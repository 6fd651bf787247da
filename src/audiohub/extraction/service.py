"""The extraction stage: domain-specific fields and general metrics (the seed's stage 2)."""

from __future__ import annotations

from audiohub.config import ReviewSettings
from audiohub.domain import CategorySpec, Classification, Extraction, Transcript
from audiohub.extraction.base import Analyzer
from audiohub.extraction.confidence import review
from audiohub.extraction.grounding import ground


class ExtractionService:
    def __init__(self, analyzer: Analyzer, review_settings: ReviewSettings | None = None) -> None:
        self.analyzer = analyzer
        self.review_settings = review_settings or ReviewSettings()

    def extract(
        self, transcript: Transcript, classification: Classification | None, spec: CategorySpec
    ) -> Extraction:
        """Run the analyzer, then apply what holds for every backend: exactly the schema's
        fields, every value grounded in the transcript (or flagged), and the review verdict.

        Args:
            transcript: the call.
            classification: how the call was classified; None when the caller does not say
                (the seed's body): its score is then unknown, not 0, and neither it nor the
                margin is reported or reviewed.
            spec: the category's schema.
        """
        known = classification
        if classification is None:
            classification = Classification(domain=spec.domain, category=spec.category)
        result = self.analyzer.extract(transcript, classification, spec)
        # Keys the schema does not name never reach the caller; missing ones are null.
        data = {f.name: result.domain_specific_data.get(f.name) for f in spec.fields}
        evidence = ground(transcript, data, result.evidence)
        verdict = review(transcript, known, evidence, self.review_settings,
                         self.analyzer.languages)
        metrics = result.general_metrics.model_copy(update={
            "classification_score": known.score if known else None,
            "classification_margin": known.margin if known else None,
            "mean_word_probability": verdict.mean_word_probability,
            "needs_review": verdict.needs_review,
            "review_reasons": verdict.reasons,
            "transcript_flags": transcript.flags,
            "speech_coverage": transcript.speech_coverage,
            "corrections": transcript.corrections,
            "unreliable_speech_share": verdict.unreliable_speech_share,
            # What the recogniser heard (WHISPER_LANGUAGE=auto detects it), whatever the
            # analyzer answered.
            "language": transcript.language,
        })
        return result.model_copy(update={"domain_specific_data": data, "evidence": evidence,
                                         "general_metrics": metrics})
