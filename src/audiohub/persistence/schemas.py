"""The persistence service's wire format."""

from __future__ import annotations

from pydantic import BaseModel


class SaveResponse(BaseModel):
    """The seed's `database` block."""

    success: bool
    call_id: int


class Deleted(BaseModel):
    """What deleting a call removed: its rows always; its recording unless another call still
    offers the same audio; the jobs that made or found it."""

    deleted: int
    recording_removed: bool
    jobs_removed: int
