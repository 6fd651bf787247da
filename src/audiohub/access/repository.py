"""All SQL for users, keys, sessions and the audit trail lives here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from audiohub.access.models import ApiKeyRow, AuditRow, SessionRow, UserRow
from audiohub.access.schemas import AuditFilter


class AccessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- users ------------------------------------------------------------------------------

    def user(self, username: str) -> UserRow | None:
        row: UserRow | None = self.session.scalar(
            select(UserRow).where(UserRow.username == username))
        return row

    def users(self) -> list[UserRow]:
        return list(self.session.scalars(select(UserRow).order_by(UserRow.username)))

    def user_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(UserRow)) or 0

    def add(self, row: UserRow | ApiKeyRow | SessionRow | AuditRow) -> None:
        self.session.add(row)
        self.session.flush()

    # --- keys -------------------------------------------------------------------------------

    def key_by_hash(self, key_hash: str) -> ApiKeyRow | None:
        row: ApiKeyRow | None = self.session.scalar(
            select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))
        return row

    def key(self, name: str) -> ApiKeyRow | None:
        row: ApiKeyRow | None = self.session.scalar(
            select(ApiKeyRow).where(ApiKeyRow.name == name))
        return row

    def api_keys(self) -> list[ApiKeyRow]:
        return list(self.session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name)))

    def touch_key(self, key_id: int, now: datetime) -> None:
        self.session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id)
                             .values(last_used_at=now))

    # --- sessions ---------------------------------------------------------------------------

    def signed_in(self, token_hash: str, now: datetime) -> tuple[SessionRow, UserRow] | None:
        """The live session with this token and its user, if the user is enabled."""
        row = self.session.execute(
            select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
            .where(SessionRow.token_hash == token_hash, SessionRow.expires_at > now,
                   UserRow.disabled.is_(False))).first()
        return None if row is None else (row[0], row[1])

    def end_session(self, token_hash: str) -> None:
        self.session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash))

    def end_sessions_of(self, user_id: int) -> None:
        self.session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))

    def end_expired_sessions(self, now: datetime) -> int:
        result = self.session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- audit ------------------------------------------------------------------------------

    def audit_page(self, f: AuditFilter) -> tuple[int, list[AuditRow]]:
        where = []
        if f.actor:
            where.append(AuditRow.actor == f.actor)
        if f.action:
            where.append(AuditRow.action == f.action)
        if f.call_id is not None:
            where.append(AuditRow.call_id == f.call_id)
        if f.since is not None:
            where.append(AuditRow.at >= f.since)
        if f.until is not None:
            where.append(AuditRow.at < f.until)
        total = self.session.scalar(select(func.count()).select_from(AuditRow).where(*where))
        rows = self.session.scalars(select(AuditRow).where(*where)
                                    .order_by(AuditRow.id.desc()).limit(f.limit).offset(f.offset))
        return total or 0, list(rows)
