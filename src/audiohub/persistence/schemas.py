"""The persistence service's wire format."""

from __future__ import annotations

from pydantic import BaseModel


class SaveResponse(BaseModel):
    """The seed's `database` block."""

    success: bool
    call_id: int
