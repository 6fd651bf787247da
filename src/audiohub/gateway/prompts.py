"""The gateway's prompt API: the pairs calls are classified among, and (admins) new pairs and new
versions of them. Each goes through the prompt stage (in this process or the prompt service),
so whatever is stored is what the next call of any process reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from audiohub.access.guard import requires
from audiohub.access.permissions import Permission, Principal
from audiohub.access.schemas import AuditAction
from audiohub.domain import CategorySpec
from audiohub.gateway.endpoints import audit, hub_of
from audiohub.prompts.schemas import NewPair, PromptEdit

router = APIRouter(prefix="/api/prompts", tags=["prompts"])

Editor = Annotated[Principal, Depends(requires(Permission.PROMPTS_EDIT))]


@router.get("", response_model=list[CategorySpec],
            dependencies=[Depends(requires(Permission.PROMPTS_READ))])
async def list_prompts(request: Request) -> list[CategorySpec]:
    """The latest version of every domain/category pair: what calls are classified among, with
    the fields extracted for each."""
    return await hub_of(request).stages.prompts.all()


@router.post("", response_model=CategorySpec, status_code=201,
             responses={409: {"description": "The pair exists: add a version to it instead"}})
async def create_prompt(request: Request, principal: Editor, new: NewPair) -> CategorySpec:
    """Create a domain/category pair (admin) from its description, examples and fields, each
    field with its `kind` and optional `said_by`, `cues`, `choices`, `examples` (the value in
    [brackets]), `length` and `shape`. Answers 201 with version 1 as stored; from the next call
    on it is classified among and its fields extracted, in every process, with no restart.
    Without `prompt`, the library's default prompt. 409 if the pair exists (POST
    /api/prompts/{domain}/{category} adds a version); 422 names the invalid part, e.g.
    `body.fields.2.kind`."""
    saved = await hub_of(request).stages.prompts.create(new)
    await audit(request, principal, AuditAction.PROMPT_CHANGED,
                detail=f"{saved.domain}/{saved.category} v{saved.version} (created)")
    return saved


@router.post("/{domain}/{category}", response_model=CategorySpec, status_code=201)
async def save_prompt(request: Request, principal: Editor, domain: str, category: str,
                      edit: PromptEdit) -> CategorySpec:
    """Add a version to an existing pair (admin): `source` "edited" for changed content,
    "approved" for an LLM-written version accepted as it is. Used from the next call on; 404
    for an unknown pair (POST /api/prompts creates one)."""
    saved = await hub_of(request).stages.prompts.save(domain, category, edit)
    await audit(request, principal, AuditAction.PROMPT_CHANGED,
                detail=f"{domain}/{category} v{saved.version} ({edit.source})")
    return saved
