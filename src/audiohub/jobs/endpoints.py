"""The jobs API on the gateway: accept a recording now (202), analyse it in the background."""

from __future__ import annotations

from typing import Annotated, BinaryIO

from anyio import to_thread
from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from audiohub.access.guard import Reader, requires
from audiohub.access.permissions import Permission, Principal
from audiohub.domain import MAX_ID
from audiohub.errors import ConfigurationError, MissingFileError
from audiohub.gateway.uploads import (
    RAW_AUDIO_BODY,
    FormKeyterms,
    QueryKeyterms,
    blocking_body,
    is_raw_audio,
    raw_filename,
    upload_keyterms,
)
from audiohub.jobs.schemas import Job, JobAccepted, JobPage, JobStatus
from audiohub.jobs.service import JOBS_NEED_DATABASE, JobService

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def job_service(request: Request) -> JobService:
    """The app's jobs, or a ConfigurationError saying what turns them on."""
    service: JobService | None = getattr(request.app.state, "jobs", None)
    if service is None:
        raise ConfigurationError(JOBS_NEED_DATABASE)
    return service


@router.post("", status_code=202, response_model=JobAccepted, openapi_extra=RAW_AUDIO_BODY)
async def submit(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_UPLOAD, limit="upload"))],
    file: Annotated[UploadFile | None, File()] = None,
    webhook_url: Annotated[str | None, Form(max_length=2000)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    x_webhook_url: Annotated[str | None, Header(
        max_length=2000, description="With a raw body: the form field `webhook_url`.")] = None,
    force: Annotated[bool, Query(description="Analyse again even if done before.")] = False,
    keyterms: FormKeyterms = None,
    query_keyterms: QueryKeyterms = None,
) -> JSONResponse:
    """Accept a recording; it is stored before this answers, so an accepted job is never lost.

    The recording is the multipart field `file`, or the raw body (`audio/*` or
    `application/octet-stream`, named by `Content-Disposition` or `X-Filename`).
    `webhook_url` (or the `X-Webhook-Url` header with a raw body) gets the finished job, signed
    (X-AudioHub-Signature) when WEBHOOK_SECRET is set. The same `Idempotency-Key` header returns
    the job it first made. `keyterms` (form field or query parameter) lists words to expect in
    the call; the job keeps them, and reuses an earlier call only if it had the same ones.
    """
    terms = upload_keyterms(keyterms, query_keyterms)
    service = job_service(request)
    source: BinaryIO
    if file is not None:
        source, name = file.file, file.filename
    elif is_raw_audio(request.headers):
        # Read from the worker thread that stages it: streamed to disk, never held whole.
        source, name = blocking_body(request.stream()), raw_filename(request.headers)
        webhook_url = webhook_url or x_webhook_url
    else:
        raise MissingFileError("send the recording as multipart form field 'file', or as the "
                               "raw body with Content-Type audio/* or application/octet-stream")
    accepted = await to_thread.run_sync(
        service.submit, source, name, webhook_url, idempotency_key, force, principal.subject,
        terms)
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.post("/{job_id}/retry", status_code=202, response_model=JobAccepted, responses={
    409: {"description": "The job has not failed, or its recording is no longer kept"}})
async def retry_job(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CALLS_UPLOAD))],
    job_id: Annotated[str, Path(min_length=1, max_length=32)],
) -> JSONResponse:
    """Run a failed job again from its kept recording and work (a stage was down for all its
    attempts): an uploader's own jobs, anyone's for admins and analysts. A failed job keeps
    its recording for FAILED_JOB_RETENTION_DAYS."""
    accepted = await to_thread.run_sync(job_service(request).retry, job_id,
                                        principal.owner_scope)
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.get("/{job_id}", response_model=Job)
async def get_job(request: Request, principal: Reader,
                  job_id: Annotated[str, Path(min_length=1, max_length=32)]) -> Job:
    """Status, progress, timings, error, webhook attempts; the seed's output JSON once done."""
    job = await to_thread.run_sync(job_service(request).get, job_id, principal.owner_scope)
    return shown_to(principal, job)


@router.get("", response_model=JobPage)
async def list_jobs(
    request: Request, principal: Reader, status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> JobPage:
    """Jobs, newest first, optionally of one status."""
    page = await to_thread.run_sync(job_service(request).page, status, limit, offset,
                                    principal.owner_scope)
    page.items = [shown_to(principal, job) for job in page.items]
    return page


def shown_to(principal: Principal, job: Job) -> Job:
    """The job with its webhook blanked for anyone but its submitter and admins: where the
    results are sent and how each attempt went are the submitter's business."""
    if principal.role == "admin" or job.submitted_by == principal.subject:
        return job
    return job.model_copy(update={"webhook_url": None, "webhook_attempts": []})
