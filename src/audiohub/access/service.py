"""Accounts, API keys, sessions, the first-admin setup link and the audit trail.

Everything is read from the database on each request (no cache), so a revoked key, a disabled
user or a changed role takes effect on the next request in every process that shares it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from audiohub.access.models import ApiKeyRow, AuditRow, SessionRow, UserRow
from audiohub.access.permissions import ROLES, Principal
from audiohub.access.repository import AccessRepository
from audiohub.access.schemas import (
    KEY_NAME_PATTERN,
    MAX_PASSWORD,
    MIN_PASSWORD,
    USERNAME_PATTERN,
    AuditAction,
    AuditEntry,
    AuditFilter,
    AuditPage,
    KeyInfo,
    NewKey,
    UserInfo,
)
from audiohub.config import AuthSettings, RoleName
from audiohub.errors import ConflictError, InvalidInputError, NotFoundError, UnauthorizedError
from audiohub.persistence.db import Database

log = logging.getLogger("audiohub.access")

KEY_PREFIX = "ahk_"
SETUP_TOKEN_FILE = "setup-token"
_hasher = PasswordHasher()
# A key's last use is written at most this often: not one write per request.
_TOUCH_EVERY = timedelta(minutes=1)


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name takes as long as a wrong
    password. Made on first use: hashing costs 64 MiB and tens of milliseconds."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> RoleName:
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def _check_name(name: str, pattern: str, what: str) -> str:
    if not re.fullmatch(pattern, name):
        raise InvalidInputError(f"{what} must be 1-64 letters, digits or . _ - "
                                f"{'@ ' if '@' in pattern else ''}(got {name!r})")
    return name


def _check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInputError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def user_info(row: UserRow) -> UserInfo:
    return UserInfo(username=row.username, role=row.role,  # type: ignore[arg-type]
                    disabled=row.disabled, created_at=_aware(row.created_at))


def key_info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(name=row.name, prefix=row.prefix, role=row.role,  # type: ignore[arg-type]
                   created_by=row.created_by, created_at=_aware(row.created_at),
                   expires_at=row.expires_at and _aware(row.expires_at),
                   revoked_at=row.revoked_at and _aware(row.revoked_at),
                   last_used_at=row.last_used_at and _aware(row.last_used_at))


def load_secret(path: Path) -> bytes:
    """A random secret kept in a file only this user may read, made on first use."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret.hex() + "\n")
    return secret


class AccessService:
    def __init__(self, db: Database, settings: AuthSettings, data_dir: Path) -> None:
        self.db = db
        self.settings = settings
        self.setup_file = data_dir / SETUP_TOKEN_FILE

    # --- users ------------------------------------------------------------------------------

    def create_user(self, username: str, password: str, role: str, actor: str,
                    address: str | None = None) -> UserInfo:
        row = UserRow(username=_check_name(username, USERNAME_PATTERN, "a user name"),
                      password_hash=_hasher.hash(_check_password(password)),
                      role=_check_role(role), disabled=False, created_at=_now())
        self._add(row, self._audit_row(actor, AuditAction.USER_CREATED, f"{username} ({role})",
                                       address), f"a user named {username!r} exists already")
        return user_info(row)

    def _add(self, row: UserRow | ApiKeyRow, audit: AuditRow, taken: str) -> None:
        """A new user or key and its audit row, together; ConflictError(`taken`) when the name
        is in use (the unique index says so, also when two requests race)."""
        try:
            with self.db.session() as session:
                repo = AccessRepository(session)
                repo.add(row)
                repo.add(audit)
        except IntegrityError as exc:
            raise ConflictError(taken) from exc

    def users(self) -> list[UserInfo]:
        with self.db.session() as session:
            return [user_info(r) for r in AccessRepository(session).users()]

    def has_users(self) -> bool:
        with self.db.session() as session:
            return AccessRepository(session).user_count() > 0

    def set_disabled(self, username: str, disabled: bool, actor: str,
                     address: str | None = None) -> UserInfo:
        with self.db.session() as session:
            repo = AccessRepository(session)
            row = self._user(repo, username)
            if disabled:
                self._keep_an_admin(repo, row, None)
                repo.end_sessions_of(row.id)
            row.disabled = disabled
            action = AuditAction.USER_DISABLED if disabled else AuditAction.USER_ENABLED
            repo.add(self._audit_row(actor, action, username, address))
            return user_info(row)

    def set_role(self, username: str, role: str, actor: str,
                 address: str | None = None) -> UserInfo:
        with self.db.session() as session:
            repo = AccessRepository(session)
            row = self._user(repo, username)
            self._keep_an_admin(repo, row, _check_role(role))
            repo.add(self._audit_row(actor, AuditAction.ROLE_CHANGED,
                                     f"{username}: {row.role} -> {role}", address))
            row.role = role
            return user_info(row)

    @staticmethod
    def _user(repo: AccessRepository, username: str) -> UserRow:
        row = repo.user(username)
        if row is None:
            raise NotFoundError(f"no user named {username!r}")
        return row

    @staticmethod
    def _keep_an_admin(repo: AccessRepository, row: UserRow, new_role: str | None) -> None:
        """Refuse to disable or demote the last enabled admin: nobody could manage the hub."""
        if row.role != "admin" or row.disabled or new_role == "admin":
            return
        admins = [u for u in repo.users() if u.role == "admin" and not u.disabled]
        if len(admins) <= 1:
            raise ConflictError(f"{row.username} is the only enabled admin; make another "
                                "admin first")

    # --- keys -------------------------------------------------------------------------------

    def create_key(self, name: str, role: str, actor: str, expires_days: float | None = None,
                   address: str | None = None) -> NewKey:
        if expires_days is not None and expires_days <= 0:
            raise InvalidInputError("--expires is a number of days greater than 0")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        row = ApiKeyRow(name=_check_name(name, KEY_NAME_PATTERN, "a key name"),
                        key_hash=token_hash(key), prefix=key[:10], role=_check_role(role),
                        created_by=actor, created_at=now,
                        expires_at=now + timedelta(days=expires_days) if expires_days else None)
        self._add(row, self._audit_row(actor, AuditAction.KEY_CREATED, f"{name} ({role})", address),
                  f"a key named {name!r} exists already; revoke it or choose another name")
        return NewKey(info=key_info(row), key=key)

    def keys(self) -> list[KeyInfo]:
        with self.db.session() as session:
            return [key_info(r) for r in AccessRepository(session).api_keys()]

    def revoke_key(self, name: str, actor: str, address: str | None = None) -> KeyInfo:
        with self.db.session() as session:
            repo = AccessRepository(session)
            row = repo.key(name)
            if row is None:
                raise NotFoundError(f"no key named {name!r}")
            if row.revoked_at is None:
                row.revoked_at = _now()
                repo.add(self._audit_row(actor, AuditAction.KEY_REVOKED, name, address))
            return key_info(row)

    def by_key(self, key: str) -> Principal | None:
        """The key's principal; None for an unknown, revoked or expired key."""
        now = _now()
        with self.db.session() as session:
            repo = AccessRepository(session)
            row = repo.key_by_hash(token_hash(key))
            if row is None or row.revoked_at is not None or (
                    row.expires_at is not None and _aware(row.expires_at) <= now):
                return None
            if row.last_used_at is None or now - _aware(row.last_used_at) > _TOUCH_EVERY:
                repo.touch_key(row.id, now)
            return Principal(subject=f"key:{row.name}", role=row.role,  # type: ignore[arg-type]
                             via="key")

    # --- sessions ---------------------------------------------------------------------------

    def login(self, username: str, password: str, address: str | None) -> tuple[str, str]:
        """Check the password; a new session's (cookie token, CSRF token). Both outcomes are
        audited; a wrong name and a wrong password get the same answer."""
        with self.db.session() as session:
            repo = AccessRepository(session)
            row = repo.user(username[:64])
            ok = self._verify(row.password_hash if row else _dummy_hash(), password[:MAX_PASSWORD])
            if row is None or not ok or row.disabled:
                repo.add(self._audit_row(username[:200] or "?", AuditAction.LOGIN_FAILED,
                                         "disabled" if ok and row else "", address))
                log.warning("failed login for %r from %s", username[:64], address)
                fail = UnauthorizedError("wrong user name or password")
            else:
                token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
                now = _now()
                repo.end_expired_sessions(now)
                repo.add(SessionRow(token_hash=token_hash(token), user_id=row.id, csrf=csrf,
                                    created_at=now, expires_at=now + timedelta(
                                        hours=self.settings.session_hours)))
                repo.add(self._audit_row(row.username, AuditAction.LOGIN, "", address))
                if _hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = _hasher.hash(password)
                return token, csrf
        raise fail

    @staticmethod
    def _verify(hashed: str, password: str) -> bool:
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def by_session(self, token: str) -> Principal | None:
        with self.db.session() as session:
            found = AccessRepository(session).signed_in(token_hash(token), _now())
            if found is None:
                return None
            row, user = found
            return Principal(subject=user.username, role=user.role,  # type: ignore[arg-type]
                             via="session", csrf=row.csrf)

    def logout(self, token: str, actor: str, address: str | None) -> None:
        with self.db.session() as session:
            repo = AccessRepository(session)
            repo.end_session(token_hash(token))
            repo.add(self._audit_row(actor, AuditAction.LOGOUT, "", address))

    def by_proxy(self, username: str) -> Principal | None:
        """A user named by a trusted proxy: their own role if they have an account here (none
        if it is disabled), else AUTH_PROXY_DEFAULT_ROLE."""
        with self.db.session() as session:
            row = AccessRepository(session).user(username[:64])
            if row is not None and row.disabled:
                return None
            role = row.role if row is not None else self.settings.proxy_default_role
            return Principal(subject=username[:200], role=role,  # type: ignore[arg-type]
                             via="proxy")

    # --- the first admin --------------------------------------------------------------------

    def setup_token(self) -> str | None:
        """While nobody has an account: the one-time setup token, made on first call and kept
        in a file only this user may read. None once a user exists."""
        if self.has_users():
            self.setup_file.unlink(missing_ok=True)
            return None
        if self.setup_file.exists():
            return self.setup_file.read_text().strip()
        self.setup_file.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        fd = os.open(self.setup_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return token

    def setup_valid(self, token: str) -> bool:
        expected = self.setup_token()
        return expected is not None and hmac.compare_digest(token.encode(), expected.encode())

    def complete_setup(self, token: str, username: str, password: str,
                       address: str | None) -> UserInfo:
        """Make the first admin with the setup link; the link then stops working."""
        if not self.setup_valid(token):
            raise UnauthorizedError("this setup link is not valid: it was used already, or an "
                                    "admin exists. Sign in, or run `audiohub users create`")
        user = self.create_user(username, password, "admin", "setup", address)
        self.setup_file.unlink(missing_ok=True)
        return user

    # --- audit ------------------------------------------------------------------------------

    @staticmethod
    def _audit_row(actor: str, action: AuditAction, detail: str = "",
                   address: str | None = None, call_id: int | None = None) -> AuditRow:
        return AuditRow(at=_now(), actor=actor[:200], action=action.value, call_id=call_id,
                        detail=detail[:500], address=address[:64] if address else None)

    def audit(self, actor: str, action: AuditAction, *, call_id: int | None = None,
              detail: str = "", address: str | None = None) -> None:
        with self.db.session() as session:
            AccessRepository(session).add(
                self._audit_row(actor, action, detail, address, call_id))

    def audit_page(self, f: AuditFilter) -> AuditPage:
        with self.db.session() as session:
            total, rows = AccessRepository(session).audit_page(f)
            return AuditPage(total=total, items=[AuditEntry(
                id=r.id, at=_aware(r.at), actor=r.actor, action=r.action,  # type: ignore[arg-type]
                call_id=r.call_id, detail=r.detail, address=r.address) for r in rows])
