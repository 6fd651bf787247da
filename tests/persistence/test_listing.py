"""The calls list on real databases (SQLite and PostgreSQL): UTC-day filters, sorting by every
column both ways, full-text search (and search strings meant to break it), the stats, a call's
stored audio, and migration 0006 over calls stored before it."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from statistics import mean
from typing import Any, get_args

import pytest
from pydantic import ValidationError
from sqlalchemy import event, inspect, text

from audiohub.domain import CallFilter, SortColumn
from audiohub.errors import NotFoundError
from audiohub.persistence.audio_store import AudioStore
from audiohub.persistence.db import Database, migrate
from audiohub.persistence.repository import fts5_query, tsquery
from audiohub.persistence.service import SqlStore
from tests.conftest import AUDIO, alembic, make_settings
from tests.persistence.calls import LEGACY, SPECS, Stored, backdate, expected_order, record_of
from tests.persistence.test_store import WAV

# UTC+14: sessions in this zone would move 2026-01-01 23:59:59 UTC to the next local day.
FAR_ZONE = "Pacific/Kiritimati"
HOSTILE = ['a"b OR (', '"', "*", "NEAR(", "-", ")(", "^card", "card:", "col:card", "AND",
           "card OR", "NOT", "'; DROP TABLE calls; --", "%_\\", "\x00", "🙂 card*", "((((",
           'transcription:"card" NEAR/2 block', "a" * 200, "- - -", "!card", "<->", "&|!"]


def store_at(tmp_path: Path, database_url: str | None) -> SqlStore:
    url = make_settings(tmp_path, database_url).database_url
    if url.startswith("postgresql"):
        url += f"?options=-c%20TimeZone%3D{FAR_ZONE}"
    db = Database(url)
    migrate(db.engine)
    return SqlStore(db, AudioStore(tmp_path / "audio"))


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> SqlStore:
    return store_at(tmp_path, database_url)


@pytest.fixture
def calls(store: SqlStore) -> list[Stored]:
    return backdate(store.db, [store.save(record_of(spec), WAV) for spec in SPECS])


def listed(store: SqlStore, **filters: Any) -> list[int]:
    page = store.page(CallFilter(**{"limit": 500, **filters}))
    assert page.total == len(page.items)
    return [c.call_id for c in page.items]


def found(store: SqlStore, calls: list[Stored], **filters: Any) -> set[int]:
    """The SPECS indexes of the calls listed."""
    index = {c.id: i for i, c in enumerate(calls)}
    return {index[call_id] for call_id in listed(store, **filters)}


def test_every_column_sorts_both_ways_with_ties_by_id(store: SqlStore, calls: list[Stored]) -> None:
    assert listed(store) == expected_order(calls, "created_at", "desc")  # the default
    for column in get_args(SortColumn):
        for order in ("asc", "desc"):
            want = expected_order(calls, column, order)
            assert listed(store, sort=column, order=order) == want, (column, order)
            # Pages of two put together are the whole list: ties never move between pages.
            pages = [c.call_id for offset in range(0, len(calls), 2)
                     for c in store.page(CallFilter(sort=column, order=order, limit=2,
                                                    offset=offset)).items]
            assert pages == want, (column, order)


def test_summaries_carry_the_outcome(store: SqlStore, calls: list[Stored]) -> None:
    items = {c.call_id: c for c in store.page(CallFilter()).items}
    for i, call in enumerate(calls):
        got = items[call.id]
        assert got.outcome == (None if i == LEGACY else call.spec.outcome)
        assert got.created_at == call.spec.created  # in UTC, with its zone, on both databases
        assert (got.filename, got.duration_seconds, got.sentiment) == (
            call.spec.filename, call.spec.duration, call.spec.sentiment)


@pytest.mark.parametrize(("since", "until", "want"), [
    ("2026-01-01", "2026-01-01", {0, 1}),  # 23:59:59 is still that day
    ("2026-01-02", None, {2, 3, 4, 5}),  # 00:00:00 is already that day
    (None, "2026-01-02", {0, 1, 2}),
    ("2026-01-04", "2026-01-04", set()),
    ("2026-01-03", "2026-01-05", {3, 4, 5}),
    ("2025-12-31", "2030-01-01", {0, 1, 2, 3, 4, 5}),
])
def test_utc_day_filters_include_both_ends(
    store: SqlStore, calls: list[Stored], since: str | None, until: str | None, want: set[int]
) -> None:
    assert found(store, calls, since=since, until=until) == want


def test_day_filters_combine_with_the_others(store: SqlStore, calls: list[Stored]) -> None:
    assert found(store, calls, domain="banking", since=date(2026, 1, 3)) == {3, 5}
    assert found(store, calls, needs_review=True, until=date(2026, 1, 3)) == {1, 3}
    assert found(store, calls, category="card_block", q="refund") == {5}
    assert found(store, calls, since=date.max, until=date.max) == set()


def test_since_after_until_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"since .* must be on or before until"):
        CallFilter(since=date(2026, 1, 2), until=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="at most 200"):
        CallFilter(q="x" * 201)


def test_search_finds_words_of_the_transcripts(store: SqlStore, calls: list[Stored]) -> None:
    assert found(store, calls, q="card") == {0, 5}
    assert found(store, calls, q="refund") == {2, 5}  # and "Refunded": English stems
    assert found(store, calls, q="appointments") == {1}
    assert found(store, calls, q="CARD stolen") == {0}  # every word, any case
    assert found(store, calls, q="pharmacy") == {4}
    assert found(store, calls, q='"card') == {0, 5}
    assert found(store, calls, q="zebra") == set()
    assert found(store, calls, q="card zebra") == set()
    assert found(store, calls, q="   ") == set(range(len(SPECS)))  # no words: no filter
    by_name = listed(store, q="card", sort="filename", order="desc")
    assert by_name == [calls[5].id, calls[0].id]


def test_search_matches_a_word_being_typed(store: SqlStore, calls: list[Stored]) -> None:
    assert found(store, calls, q="pharm") == {4}
    assert found(store, calls, q="stolen bl") == {0}


def test_hostile_search_strings_never_fail(store: SqlStore, calls: list[Stored]) -> None:
    for q in HOSTILE:
        store.page(CallFilter(q=q))  # no syntax error, whatever the database makes of it
    assert store.count() == len(SPECS)


def test_tsquery_keeps_only_words() -> None:
    assert tsquery('a"b OR (') == "a & b & OR:*"
    assert tsquery("card & !block | x:*") == "card & block & x:*"
    assert tsquery(' (( "" * ') is None


def test_fts5_query_quotes_every_word() -> None:
    assert fts5_query('a"b OR (') == '"a" "b" "OR"*'
    assert fts5_query("NEAR(card, block)") == '"NEAR" "card" "block"*'
    assert fts5_query(' (( "" * ') is None


def test_stats_match_the_rows(store: SqlStore, calls: list[Stored]) -> None:
    s = store.stats()
    assert s.total_calls == len(SPECS)
    assert s.by_domain == Counter(spec.domain for spec in SPECS)
    assert s.by_category == Counter(f"{spec.domain}/{spec.category}" for spec in SPECS)
    days = Counter(spec.created.date().isoformat() for spec in SPECS)
    assert s.calls_per_day == days
    assert list(s.calls_per_day) == sorted(days)  # oldest day first
    assert s.calls_per_day == {"2026-01-01": 2, "2026-01-02": 1, "2026-01-03": 1,
                               "2026-01-05": 2}
    domains = {spec.domain for spec in SPECS}
    assert s.average_sentiment_by_domain == pytest.approx(
        {d: mean(x.sentiment for x in SPECS if x.domain == d) for d in domains}, abs=1e-4)
    assert s.average_duration_by_domain == pytest.approx(
        {d: mean(x.duration for x in SPECS if x.domain == d) for d in domains}, abs=1e-2)
    assert s.average_duration_seconds == pytest.approx(mean(x.duration for x in SPECS), abs=1e-2)
    assert s.average_sentiment == pytest.approx(mean(x.sentiment for x in SPECS), abs=1e-4)
    assert s.needs_review_count == sum(x.review for x in SPECS) == 3
    assert s.needs_review_rate == 0.5


def test_stats_of_an_empty_store(store: SqlStore) -> None:
    s = store.stats()
    assert (s.total_calls, s.needs_review_count, s.needs_review_rate) == (0, 0, None)
    assert s.calls_per_day == s.by_domain == s.average_sentiment_by_domain == {}
    assert s.average_duration_by_domain == {}


def test_audio_of_a_stored_call(store: SqlStore, calls: list[Stored]) -> None:
    path, media_type = store.audio(calls[0].id)
    assert (path.read_bytes(), media_type) == (WAV.read_bytes(), "audio/wav")
    mp3 = AUDIO / "healthcare_appointment.mp3"
    call_id = store.save(record_of(SPECS[0], mp3, "mp3"), mp3)
    path, media_type = store.audio(call_id)
    assert (path.read_bytes(), media_type) == (mp3.read_bytes(), "audio/mpeg")
    with pytest.raises(NotFoundError, match="no call with id 999"):
        store.audio(999)
    path.unlink()
    with pytest.raises(NotFoundError, match="not in the audio store"):
        store.audio(call_id)


def test_search_follows_updates_and_deletes(store: SqlStore, calls: list[Stored]) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE calls SET transcription = 'A zebra crossing' WHERE id = :id"),
                     {"id": calls[0].id})
        conn.execute(text("DELETE FROM calls WHERE id = :id"), {"id": calls[5].id})
    assert found(store, calls, q="zebra") == {0}
    assert found(store, calls, q="card") == set()
    assert found(store, calls, q="refund") == {2}


def test_migration_0006_fills_calls_stored_before_it(store: SqlStore,
                                                     calls: list[Stored]) -> None:
    engine = store.db.engine
    alembic(engine, "downgrade", "0005")
    inspector = inspect(engine)
    assert "call_outcome" not in {c["name"] for c in inspector.get_columns("calls")}
    assert "calls_fts" not in inspector.get_table_names()
    assert "ix_calls_transcription_fts" not in {i["name"] for i in inspector.get_indexes("calls")}
    with engine.connect() as conn:  # going down lost no call and no call's domain data
        assert conn.execute(text("SELECT count(*) FROM domain_specific")).scalar() == len(SPECS)

    alembic(engine, "upgrade", "head")
    outcomes = {c.call_id: c.outcome for c in store.page(CallFilter()).items}
    assert outcomes == {c.id: c.spec.outcome for c in calls}  # the legacy one too, from JSON
    assert found(store, calls, q="card") == {0, 5}  # indexed when the index was made
    assert listed(store, sort="outcome", order="asc") == expected_order(
        [Stored(c.id, c.spec, c.spec.outcome) for c in calls], "outcome", "asc")


@pytest.mark.postgres
def test_postgres_search_uses_the_gin_index(tmp_path: Path, pg_url: str) -> None:
    """The repository's own query, as sent, is planned with migration 0006's index."""
    store = store_at(tmp_path, pg_url)
    store.save(record_of(SPECS[0]), WAV)
    sent: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "to_tsquery" in statement and "count(" not in statement:
            sent.append((statement, params))

    event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        store.page(CallFilter(q="card"))
    finally:
        event.remove(store.db.engine, "before_cursor_execute", capture)
    statement, params = sent[0]
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", params))
    assert "ix_calls_transcription_fts" in plan, plan
