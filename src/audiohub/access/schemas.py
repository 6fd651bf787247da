"""What the access API and CLI return: users, keys and audit rows, never a hash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from audiohub.config import RoleName
from audiohub.domain import MAX_ID, UtcDatetime

# A user name: letters, digits and . _ @ - (an email address fits; a space or a colon does not).
USERNAME_PATTERN = r"^[A-Za-z0-9._@-]{1,64}$"
KEY_NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


class AuditAction(StrEnum):
    """Everything the audit trail records."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    SETUP = "setup"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    ROLE_CHANGED = "role_changed"
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    CALL_VIEWED = "call_viewed"
    AUDIO_PLAYED = "audio_played"
    EXPORT = "export"
    PROMPT_CHANGED = "prompt_changed"
    CALL_DELETED = "call_deleted"
    PURGE = "purge"


class UserInfo(BaseModel):
    username: str
    role: RoleName
    disabled: bool
    created_at: UtcDatetime


class KeyInfo(BaseModel):
    name: str
    prefix: str
    role: RoleName
    created_by: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    last_used_at: UtcDatetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class NewKey(BaseModel):
    """A key as made: `key` is shown this once and never stored."""

    info: KeyInfo
    key: str


class AuditEntry(BaseModel):
    id: int
    at: UtcDatetime
    actor: str
    action: AuditAction
    call_id: int | None
    detail: str
    address: str | None


class AuditFilter(BaseModel):
    """Which audit rows to list, newest first: by actor, action, call, time (since included,
    until excluded)."""

    actor: str | None = Field(default=None, max_length=200)
    action: AuditAction | None = None
    call_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_ID)


class AuditPage(BaseModel):
    total: int
    items: list[AuditEntry]
