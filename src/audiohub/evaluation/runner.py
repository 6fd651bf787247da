"""`audiohub eval`: run the configured pipeline on labeled calls and score it like taxonomy.md.

Each call runs from its audio through the whole pipeline, or (reference-text mode) from its
script: the analyzer alone, measured without the recogniser. Scoring is in scoring.py.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from pydantic import ValidationError

from audiohub.config import DatabaseSettings, Settings
from audiohub.domain import (
    CallResult,
    CategorySpec,
    DatabaseStatus,
    Segment,
    TokenUsage,
    Transcript,
)
from audiohub.errors import ConflictError, InvalidInputError
from audiohub.evaluation.manifest import EvalItem, KeytermMode, Manifest
from audiohub.evaluation.scoring import EvalReport, summarize
from audiohub.gateway.hub import Hub, build_hub
from audiohub.prompts.generation import PromptGenerator
from audiohub.prompts.schemas import PromptCreate


def text_transcript(text: str) -> Transcript:
    """A transcript of text alone, as POST /extract builds one from the seed's body: one
    segment, no word times and no word confidence."""
    segment = Segment(id=0, start=0.0, end=0.0, text=text)
    return Transcript(text=text, language="en", duration=0.0, segments=[segment],
                      word_probabilities=False)


def add_categories(generator: PromptGenerator, bodies: list[dict[str, Any]]) -> list[CategorySpec]:
    """Create each new pair, given as the JSON body of POST /api/prompts, the way that request
    does: version 1 in the store the classifier and the extraction read.

    Raises:
        InvalidInputError: a body is not a valid new pair (as the request's 422 says), or its
            pair exists already.
    """
    created = []
    for body in bodies:
        try:
            new = PromptCreate.model_validate(body)
        except ValidationError as exc:
            raise InvalidInputError(f"category {body.get('domain')}/{body.get('category')} "
                                    f"is not a valid new pair: {exc}") from exc
        try:
            created.append(generator.create(new))
        except ConflictError as exc:
            raise InvalidInputError(f"the set's category {new.domain}/{new.category} is one the "
                                    "prompt library has already; give it another name") from exc
    return created


def analyse_text(hub: Hub, text: str, call_id: str) -> CallResult:
    """One call's script through the analysis half of the pipeline: classified among the
    stored pairs as the transcription stage does, then the pair's prompt and extraction
    through the hub's own stages. Nothing is stored."""
    transcript = text_transcript(text)
    classification = hub.analyzer.classify(transcript, hub.parts.prompt_source.all())

    async def analyse() -> CallResult:
        c = classification
        try:
            _, extraction = await hub.pipeline.analyze(transcript, c)
        finally:
            if hub.pool is not None:
                await hub.pool.aclose()
        return CallResult(
            filename=call_id, transcription=transcript.text, domain=c.domain,
            category=c.category, domain_specific_data=extraction.domain_specific_data,
            evidence=extraction.evidence, general_metrics=extraction.general_metrics,
            database=DatabaseStatus(success=False, call_id=None),
            token_usage=TokenUsage.of(c.tokens, extraction.tokens),
            segments=transcript.segments,
        )

    return anyio.run(analyse)


def run_eval(manifest: Manifest, settings: Settings,
             progress: Callable[[EvalItem], None] | None = None,
             keyterms: KeytermMode = KeytermMode.NONE,
             reference_text: bool = False) -> EvalReport:
    """Analyse every call of the manifest with `settings`' backends and score the answers.

    Args:
        manifest: the calls, and any new categories, created in the run's prompt store first.
        settings: the backends and models to use.
        progress: called after each call.
        keyterms: the custom vocabulary each call is given (its own labelled terms, its
            company's, or none).
        reference_text: analyse each call's script (its `reference`) instead of its audio.

    Calls are stored in a throwaway database, never in the hub's own; models are the hub's.
    """
    with tempfile.TemporaryDirectory(prefix="audiohub-eval-") as tmp:
        scratch = settings.model_copy(update={
            "data_dir": Path(tmp), "model_dir": settings.models_dir.resolve(),
            "database": DatabaseSettings(url=None),
        })
        hub = build_hub(scratch)
        results: list[CallResult] = []
        try:
            add_categories(hub.parts.prompt_generator, manifest.categories)
            hub.load_models(transcription=not reference_text)
            for item in manifest.items:
                results.append(_run_one(hub, item, keyterms, reference_text))
                if progress:
                    progress(item)
        finally:
            hub.close()
    return summarize(manifest.name, settings, manifest.items, results, keyterms, reference_text)


def _run_one(hub: Hub, item: EvalItem, keyterms: KeytermMode, reference_text: bool) -> CallResult:
    try:
        return _analyse(hub, item, keyterms, reference_text)
    except Exception as exc:
        # Whatever fails stops the run as it is, saying which call to try alone.
        exc.add_note(f"while evaluating call {item.id}")
        raise


def _analyse(hub: Hub, item: EvalItem, keyterms: KeytermMode, reference_text: bool) -> CallResult:
    if reference_text:
        return analyse_text(hub, item.reference, item.id)
    if item.audio is None:
        raise InvalidInputError(f"call {item.id} has no audio; use --reference-text")
    # Eval audio is ours and may be long: no upload limit.
    return hub.process_file(item.audio, limit=1 << 40, keyterms=item.terms_for(keyterms))
