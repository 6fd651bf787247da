"""The prompt service (the seed's port 8002): which domain/category pairs exist, and their prompts
and field schemas."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from audiohub.api import health_report, require_service_token
from audiohub.domain import CategorySpec
from audiohub.errors import NotFoundError
from audiohub.prompts.generation import PromptGenerator
from audiohub.prompts.schemas import (
    DomainsResponse,
    NewPair,
    PairRequest,
    PromptEdit,
    PromptResponse,
)
from audiohub.prompts.service import SqlPromptStore

router = APIRouter(dependencies=[Depends(require_service_token)])
health_router = APIRouter()


def _store(request: Request) -> SqlPromptStore:
    store: SqlPromptStore = request.app.state.prompts
    return store


@router.post("/validate-and-generate", response_model=PromptResponse)
async def validate_and_generate(request: Request, pair: PairRequest) -> PromptResponse:
    """The pair's prompt and field schema. For a pair the store does not know, an LLM analyzer
    writes one (`generated: true`, saved in the background for review). When none is written
    (the local analyzer, or the LLM failed) the answer is `custom_prompt: null` with
    `reason_code` and `reason` saying why, and the analysis uses the general fallback."""
    generator: PromptGenerator = request.app.state.generator
    answer = await to_thread.run_sync(generator.answer, pair.domain, pair.category)
    return PromptResponse.of(pair.domain, pair.category, answer.spec,
                             reason_code=answer.code, reason=answer.reason)


@router.get("/fetch-prompt", response_model=PromptResponse)
async def fetch_prompt(
    request: Request,
    domain: Annotated[str, Query(min_length=1)],
    category: Annotated[str, Query(min_length=1)],
) -> PromptResponse:
    """The stored prompt of one pair; 404 if there is none."""
    spec = await to_thread.run_sync(_store(request).get, domain, category)
    if spec is None:
        raise NotFoundError(f"no prompt for {domain}/{category}; GET /domains lists the pairs")
    return PromptResponse.of(domain, category, spec)


@router.get("/domains", response_model=DomainsResponse)
async def domains(request: Request) -> DomainsResponse:
    """Every known domain with its categories."""
    return DomainsResponse(domains=await to_thread.run_sync(_store(request).domains))


@router.get("/prompts", response_model=list[CategorySpec])
async def all_prompts(request: Request) -> list[CategorySpec]:
    """The latest version of every pair: what the transcription service classifies among."""
    return await to_thread.run_sync(_store(request).all)


@router.post("/prompts", response_model=CategorySpec, status_code=201,
             responses={409: {"description": "The pair exists: add a version to it instead"}})
async def create_prompt(request: Request, new: NewPair) -> CategorySpec:
    """Create a new domain/category pair from its fields' specs: stored as version 1 (`source:
    "edited"`, a person's), classified among and extracted from the next call on, with no
    restart. Without `prompt`, the library's default prompt for the pair. 409 if the pair
    exists (POST /prompts/{domain}/{category} adds a version); 422 names the invalid part."""
    generator: PromptGenerator = request.app.state.generator
    return await to_thread.run_sync(generator.create, new)


@router.get("/prompts/{domain}/{category}/versions", response_model=list[CategorySpec])
async def prompt_versions(request: Request, domain: str, category: str) -> list[CategorySpec]:
    """Every version of one pair, newest first; 404 if there is none."""
    versions = await to_thread.run_sync(_store(request).history, domain, category)
    if not versions:
        raise NotFoundError(f"no prompt for {domain}/{category}; GET /prompts lists the pairs")
    return versions


@router.post("/prompts/{domain}/{category}", response_model=CategorySpec, status_code=201)
async def save_prompt(
    request: Request, domain: str, category: str, edit: PromptEdit
) -> CategorySpec:
    """Save a person's edit (`source: "edited"`) or approval of a generated prompt (`source:
    "approved"`) as the pair's next version, used from the next call on; 404 for an unknown
    pair (this never creates one)."""
    generator: PromptGenerator = request.app.state.generator
    return await to_thread.run_sync(generator.save, domain, category, edit)


@health_router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Whether this service can do its work (no token needed: probes call it)."""
    return await health_report("prompt", _store(request).health)
