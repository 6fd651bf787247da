"""One error hierarchy for every stage. Stage code raises these, never HTTPException, so the CLI,
a worker and the HTTP services reuse it unchanged; one FastAPI handler maps them to JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class AudioHubError(Exception):
    """Root of every error the hub raises on purpose."""

    status_code = 500
    error = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (Retry-After, WWW-Authenticate)."""
        return {}


class InvalidInputError(AudioHubError):
    """The request itself is wrong: the caller must change it."""

    status_code = 400
    error = "invalid_input"


class EmptyUploadError(InvalidInputError):
    """The uploaded file has no bytes."""

    error = "empty_file"


class MissingFileError(InvalidInputError):
    """The multipart request has no `file` field."""

    status_code = 422
    error = "missing_file"


class UploadTooLargeError(InvalidInputError):
    """The upload is larger than MAX_UPLOAD_MB."""

    status_code = 413
    error = "file_too_large"


class UnsupportedAudioError(InvalidInputError):
    """The bytes are not audio we can decode, or the audio is truncated or corrupt."""

    status_code = 415
    error = "unsupported_audio"


class WebhookTargetError(InvalidInputError):
    """A webhook_url whose host does not resolve, or resolves to an internal address
    (loopback, private, link-local ...) that WEBHOOK_ALLOW_HOSTS does not list."""

    error = "webhook_target_refused"


class AudioTooLongError(InvalidInputError):
    """The recording lasts longer than MAX_AUDIO_MINUTES (by its header, or once decoded)."""

    status_code = 413
    error = "audio_too_long"


class NotFoundError(AudioHubError):
    """A call, prompt or other record does not exist."""

    status_code = 404
    error = "not_found"


class ConfigurationError(AudioHubError):
    """The settings cannot work; the message says what to set or install."""

    error = "configuration_error"


class BackendUnavailableError(AudioHubError):
    """A model, database or service the stage needs is not reachable or not installed."""

    status_code = 503
    error = "backend_unavailable"


class StorageError(AudioHubError):
    """The database or audio store refused a write; nothing was kept."""

    status_code = 503
    error = "storage_error"


class UnauthorizedError(AudioHubError):
    """The caller is not known: no key, session or service token, or a wrong one."""

    status_code = 401
    error = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="audiohub"'}


class _RetryAfter(AudioHubError):
    """An error that tells the client when to send the request again (Retry-After)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimitedError(_RetryAfter):
    """Too many requests of one kind from one caller; try again after `retry_after` seconds."""

    status_code = 429
    error = "rate_limited"


class ConflictError(AudioHubError):
    """The change was made against a version that is no longer the current one."""

    status_code = 409
    error = "conflict"


class ForbiddenError(AudioHubError):
    """The caller may not do this: their role lacks the permission, or a form was posted from
    another site or without its CSRF token."""

    status_code = 403
    error = "forbidden"


class StageUnavailableError(BackendUnavailableError):
    """A stage service did not answer after every retry; nothing was stored."""

    error = "stage_unavailable"


class StageError(AudioHubError):
    """A stage service answered with an error: its status and message, passed on as they are."""

    def __init__(self, status_code: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error


class StageNotFoundError(StageError, NotFoundError):
    """A stage service's own 404 "not_found" (no such call, no such pair): passed on as it
    came, and caught as a NotFoundError like the same answer from a stage in this process."""


class LLMUnavailableError(BackendUnavailableError):
    """The LLM provider did not answer usefully after the retries (timeout, 429, 5xx)."""

    error = "llm_unavailable"


class QueueFullError(_RetryAfter, BackendUnavailableError):
    """MAX_QUEUED_JOBS jobs are waiting or running already; send it again after `retry_after`
    seconds."""

    error = "queue_full"


def describe_invalid(errors: Iterable[Mapping[str, Any]], whole: str = "") -> str:
    """pydantic's validation errors as one line a person can act on: "loc.path: message; ...".
    `whole` names what an error without a location is about (the answer, the filter)."""
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())) or whole}: "
                     f"{e.get('msg', 'invalid')}" for e in errors)
