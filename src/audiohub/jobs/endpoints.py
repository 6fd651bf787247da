"""The jobs API on the gateway: accept a recording now (202), analyse it in the background."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from audiohub.access.guard import Reader, requires
from audiohub.access.permissions import Permission, Principal
from audiohub.errors import ConfigurationError, MissingFileError
from audiohub.jobs.schemas import Job, JobAccepted, JobPage, JobStatus
from audiohub.jobs.service import JOBS_NEED_DATABASE, JobService

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def job_service(request: Request) -> JobService:
    """The app's jobs, or a ConfigurationError saying what turns them on."""
    service: JobService | None = getattr(request.app.state, "jobs", None)
    if service is None:
        raise ConfigurationError(JOBS_NEED_DATABASE)
    return service


@router.post("", status_code=202, response_model=JobAccepted)
async def submit(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_UPLOAD, limit="upload"))],
    file: Annotated[UploadFile | None, File()] = None,
    webhook_url: Annotated[str | None, Form(max_length=2000)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    force: Annotated[bool, Query(description="Analyse again even if done before.")] = False,
) -> JSONResponse:
    """Accept a recording; it is stored before this answers, so an accepted job is never lost.

    `webhook_url` gets the finished job, signed (X-AudioHub-Signature) when WEBHOOK_SECRET is
    set. The same `Idempotency-Key` header returns the job it first made.
    """
    if file is None:
        raise MissingFileError("send the recording as multipart form field 'file'")
    accepted = await to_thread.run_sync(
        job_service(request).submit, file.file, file.filename, webhook_url, idempotency_key, force,
        principal.subject)
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.get("/{job_id}", response_model=Job)
async def get_job(request: Request, principal: Reader,
                  job_id: Annotated[str, Path(min_length=1, max_length=32)]) -> Job:
    """Status, progress, timings, error, webhook attempts; the seed's output JSON once done."""
    return await to_thread.run_sync(job_service(request).get, job_id, principal.owner_scope)


@router.get("", response_model=JobPage)
async def list_jobs(
    request: Request, principal: Reader, status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> JobPage:
    """Jobs, newest first, optionally of one status."""
    return await to_thread.run_sync(job_service(request).page, status, limit, offset,
                                    principal.owner_scope)
