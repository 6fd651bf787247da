"""The extraction service (the seed's port 8003): domain fields with evidence, general metrics."""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from audiohub.api import health_report, require_service_token
from audiohub.domain import CategorySpec
from audiohub.extraction.schemas import ExtractRequest, ExtractResponse
from audiohub.extraction.service import ExtractionService
from audiohub.prompts.library import library_spec

router = APIRouter(dependencies=[Depends(require_service_token)])
health_router = APIRouter()


def _service(request: Request) -> ExtractionService:
    service: ExtractionService = request.app.state.extraction
    return service


@router.post("/extract", response_model=ExtractResponse)
async def extract(request: Request, body: ExtractRequest) -> ExtractResponse:
    """Fill the category's fields from the transcript and compute the general metrics.

    The seed's body (`transcription`, `domain`, `category`, `custom_prompt`) is enough; send
    `transcript` (with word timings), `classification` and `spec` too for audio-time evidence,
    confidence and a schema other than the built-in library's.
    """
    spec: CategorySpec = body.spec or library_spec(body.domain, body.category)
    result = await to_thread.run_sync(
        _service(request).extract, body.the_transcript(), body.classification, spec)
    return ExtractResponse.of(result)


@health_router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Whether this service can do its work (no token needed: probes call it)."""
    return await health_report("extraction", _service(request).analyzer.health)
