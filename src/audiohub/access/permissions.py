"""Permissions, roles and who is asking. Which role holds which permission is data (roles.yaml);
this module only reads it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import yaml

from audiohub.config import RoleName

ROLES: tuple[RoleName, ...] = get_args(RoleName)


class Permission(StrEnum):
    """What a route needs. `public` is for liveness, login and setup only."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    CALLS_READ = "calls:read"
    CALLS_READ_OWN = "calls:read_own"
    CALLS_UPLOAD = "calls:upload"
    CALLS_DELETE = "calls:delete"
    PROMPTS_READ = "prompts:read"
    PROMPTS_EDIT = "prompts:edit"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    HEALTH_DETAIL = "health:detail"


@cache
def role_permissions() -> dict[RoleName, frozenset[Permission]]:
    """roles.yaml, checked: every role named, every permission known."""
    raw = yaml.safe_load((Path(__file__).parent / "roles.yaml").read_text())
    if set(raw) != set(ROLES):
        raise ValueError(f"roles.yaml must define exactly the roles {ROLES}, not {sorted(raw)}")
    return {role: frozenset(Permission(p) for p in raw[role]) for role in ROLES}


Via = Literal["key", "session", "proxy", "env", "off", "none"]


@dataclass(frozen=True)
class Principal:
    """Who sent a request: a user (by the session cookie or a trusted proxy), an API key, or
    nobody. `subject` is what the audit trail and a call's `submitted_by` record."""

    subject: str
    role: RoleName | None
    via: Via
    # The signed-in session's CSRF token (cookie-authenticated requests only).
    csrf: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def can(self, permission: Permission) -> bool:
        if permission is Permission.PUBLIC:
            return True
        return self.role is not None and permission in role_permissions()[self.role]

    @property
    def owner_scope(self) -> str | None:
        """None when this principal reads every call; else the only submitter it may read."""
        return None if self.can(Permission.CALLS_READ) else self.subject


ANONYMOUS = Principal(subject="anonymous", role=None, via="none")
# AUTH=off (loopback only): everyone on this machine is the admin.
LOCAL = Principal(subject="local", role="admin", via="off")
