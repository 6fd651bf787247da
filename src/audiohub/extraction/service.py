"""The extraction stage: domain-specific fields and general metrics (the seed's stage 2)."""

from __future__ import annotations

from audiohub.domain import CategorySpec, Classification, Extraction, Transcript
from audiohub.extraction.base import Analyzer


class ExtractionService:
    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def extract(
        self, transcript: Transcript, classification: Classification, spec: CategorySpec
    ) -> Extraction:
        result = self.analyzer.extract(transcript, classification, spec)
        # Every field of the schema is present, null when the call does not say it; keys the
        # schema does not name never reach the caller.
        names = [f.name for f in spec.fields]
        data = {n: result.domain_specific_data.get(n) for n in names}
        evidence = {k: v for k, v in result.evidence.items() if data.get(k) is not None}
        return result.model_copy(update={"domain_specific_data": data, "evidence": evidence})
