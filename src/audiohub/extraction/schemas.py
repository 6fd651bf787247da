"""The extraction service's wire format: the seed's request (`transcription`, `domain`,
`category`, `custom_prompt`) and answer (`extracted_data`, `general_metrics`, `tokens`), plus the
word-timed transcript and the field schema our grounding needs."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from audiohub.domain import (
    CategorySpec,
    Classification,
    Evidence,
    Extraction,
    GeneralMetrics,
    Segment,
    TokenCount,
    Transcript,
)


class ExtractRequest(BaseModel):
    transcription: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    category: str = Field(min_length=1)
    custom_prompt: str | None = None
    # Ours, optional: without them values are grounded in the text only (no audio times), the
    # category's schema comes from the built-in library, and confidence is unknown.
    transcript: Transcript | None = None
    classification: Classification | None = None
    spec: CategorySpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ExtractRequest:
        if self.transcript is not None and self.transcript.text != self.transcription:
            raise ValueError("transcript.text must equal transcription")
        if self.spec is not None and (self.spec.domain, self.spec.category) != (
                self.domain, self.category):
            raise ValueError("spec must be the schema of the given domain/category")
        return self

    def the_transcript(self) -> Transcript:
        if self.transcript is not None:
            return self.transcript
        # The seed sends text only: one segment, no word timings.
        segment = Segment(id=0, start=0.0, end=0.0, text=self.transcription)
        return Transcript(text=self.transcription, language="en", duration=0.0,
                          segments=[segment])


class ExtractResponse(BaseModel):
    extracted_data: dict[str, str | None]
    general_metrics: GeneralMetrics
    tokens: TokenCount
    evidence: dict[str, Evidence]

    @classmethod
    def of(cls, e: Extraction) -> ExtractResponse:
        return cls(extracted_data=e.domain_specific_data, general_metrics=e.general_metrics,
                   tokens=e.tokens, evidence=e.evidence)

    def result(self) -> Extraction:
        return Extraction(domain_specific_data=self.extracted_data, evidence=self.evidence,
                          general_metrics=self.general_metrics, tokens=self.tokens)
