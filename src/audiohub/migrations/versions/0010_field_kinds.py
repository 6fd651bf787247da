"""prompts.fields: every field of a stored version gets a kind (person, date, code, ...), guessed
once for fields written before kinds and marked `kind_inferred` for a person to confirm

A field stored before this revision has no `kind_inferred` key: its kind is missing, the old
default "text", a legacy one ("id", "month") or whatever the old editor let a person type. The
shipped library's kind is taken for a field of a library version it still lists (not a guess);
otherwise the guess of `infer_kind` from the field's name and description (a legacy kind where
that guess is only "text"), with `kind_inferred: true`. A kind a person chose that is a kind
now stays, confirmed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-18
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

from audiohub.extraction.backends.local.kinds import infer_kind
from audiohub.fieldspec import KINDS, LEGACY_KINDS
from audiohub.prompts.library import load_library

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PROMPTS = sa.table(
    "prompts", sa.column("id", sa.Integer), sa.column("domain", sa.String),
    sa.column("category", sa.String), sa.column("source", sa.String),
    sa.column("fields", sa.JSON))
_OLD_DEFAULT = "text"


def upgrade() -> None:
    library = {(s.domain, s.category): {f.name: f.kind for f in s.fields}
               for s in load_library()}
    conn = op.get_bind()
    rows = conn.execute(sa.select(_PROMPTS.c.id, _PROMPTS.c.domain, _PROMPTS.c.category,
                                  _PROMPTS.c.source, _PROMPTS.c.fields)).all()
    for row in rows:
        fields = list(row.fields or [])
        shipped = library.get((row.domain, row.category), {})
        kinded = [_with_kind(f, row.source == "library", shipped) for f in fields]
        if kinded != fields:
            conn.execute(_PROMPTS.update().where(_PROMPTS.c.id == row.id).values(fields=kinded))


def downgrade() -> None:
    # Nothing to undo: the older code reads any kind and ignores the keys it does not know, and
    # keeping the marks means a later upgrade neither guesses again nor forgets a confirmation.
    pass


def _with_kind(field: dict[str, Any], from_library: bool,
               shipped: Mapping[str, str]) -> dict[str, Any]:
    """The stored field with a kind, and whether it is a guess."""
    if "kind_inferred" in field:  # written with kinds already
        return field
    name, description = str(field.get("name", "")), str(field.get("description") or "")
    old = field.get("kind")
    if from_library and name in shipped:
        kind, guessed = shipped[name], False
    elif old in KINDS and old != _OLD_DEFAULT:
        kind, guessed = old, False  # a person wrote a kind that is one of ours
    elif name in shipped:
        kind, guessed = shipped[name], True  # an edit of a library pair keeps the field
    else:
        kind, guessed = infer_kind(name, description), True
        if kind == _OLD_DEFAULT and isinstance(old, str) and old in LEGACY_KINDS:
            kind = LEGACY_KINDS[old]
    return {**field, "kind": kind, "kind_inferred": guessed}
