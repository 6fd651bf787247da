"""The orchestrator: the seed's request flow, stage by stage, wherever each stage runs."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audiohub.domain import (
    CallRecord,
    CallResult,
    CategorySpec,
    Classification,
    DatabaseStatus,
    Extraction,
    TokenUsage,
    Transcript,
    TranscriptionResult,
)
from audiohub.gateway.clients import Stages
from audiohub.prompts.library import fallback_spec


@dataclass(frozen=True)
class StagedAudio:
    """An upload already on local disk, hashed, with the name the client gave it."""

    path: Path
    sha256: str
    filename: str
    # Set when a job runs the pipeline: stored with the call, so a redelivery finds it.
    job_id: str | None = None
    # The user or key that sent it (see audiohub.access), stored with the call.
    submitted_by: str | None = None
    # Words to expect in this call (the request's `keyterms`): a decoding hint and a correction
    # list, beside VOCABULARY_FILE's terms and the category's.
    keyterms: tuple[str, ...] = ()


Progress = Callable[[str], Awaitable[None]]


def call_signature(signature: str, keyterms: Sequence[str]) -> str:
    """The pipeline signature stored with a call: with keyterms, their digest too, so a job
    reuses a call only if it was made with the same words to expect (in any order or case)."""
    if not keyterms:
        return signature
    terms = "\n".join(sorted({t.casefold() for t in keyterms}))
    tag = f"|keyterms:{hashlib.sha256(terms.encode()).hexdigest()[:16]}"
    return signature[:200 - len(tag)] + tag  # the column holds 200


class Pipeline:
    def __init__(self, stages: Stages, signature: str = "") -> None:
        self.stages = stages
        # Which backends and models make the calls (stored with each; see Hub.signature).
        self.signature = signature

    async def process(self, audio: StagedAudio, progress: Progress | None = None) -> CallResult:
        """Transcribe, classify, extract and store one call; return the seed's output JSON."""
        return await self.complete(audio, await self.transcribe(audio, progress), progress)

    async def transcribe(self, audio: StagedAudio,
                         progress: Progress | None = None) -> TranscriptionResult:
        """The first half (the seed's stage 1): text, word timings, domain and category. A job
        queue may hand the result to another worker for `complete`."""
        if progress:
            await progress("transcribing")
        return await self.stages.transcription.transcribe(audio.path, audio.keyterms)

    async def analyze(self, transcript: Transcript, c: Classification
                      ) -> tuple[CategorySpec, Extraction]:
        """The pair's prompt and the extraction: the analysis half, which stores nothing."""
        spec = await self.stages.prompts.validate_and_generate(c.domain, c.category)
        if spec is None:
            # A pair no prompt exists for (yet): analyse it with the general fallback's schema.
            spec = fallback_spec()
        return spec, await self.stages.extraction.extract(transcript, c, spec)

    async def complete(self, audio: StagedAudio, stage1: TranscriptionResult,
                       progress: Progress | None = None) -> CallResult:
        """The second half: the prompt, extraction, and storing the call.

        Nothing is stored unless every stage succeeded, and then the call, its domain data and
        its recording are stored together.
        """
        s = self.stages
        if progress:
            await progress("analyzing")
        c = stage1.classification
        spec, extraction = await self.analyze(stage1.transcript, c)
        usage = TokenUsage.of(stage1.tokens, extraction.tokens)
        record = CallRecord(
            filename=audio.filename, audio_sha256=audio.sha256, audio_format=stage1.audio_format,
            transcript=stage1.transcript, classification=c, extraction=extraction,
            token_usage=usage, prompt_version=spec.version, job_id=audio.job_id,
            pipeline=call_signature(self.signature, audio.keyterms),
            submitted_by=audio.submitted_by,
        )
        if progress:
            await progress("saving")
        call_id = await s.persistence.save(record, audio.path)
        return CallResult(
            filename=audio.filename,
            transcription=stage1.transcript.text,
            domain=c.domain,
            category=c.category,
            domain_specific_data=extraction.domain_specific_data,
            evidence=extraction.evidence,
            general_metrics=extraction.general_metrics,
            database=DatabaseStatus(success=True, call_id=call_id),
            token_usage=usage,
            segments=stage1.transcript.segments,
        )
