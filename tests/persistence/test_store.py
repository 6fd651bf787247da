"""Calls on a real database: one transaction for both tables, audio kept by content."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, text

from audiohub.domain import (
    CallRecord,
    Classification,
    Evidence,
    Extraction,
    GeneralMetrics,
    Segment,
    Sentiment,
    TokenCount,
    TokenUsage,
    Transcript,
    Word,
)
from audiohub.errors import NotFoundError, StorageError
from audiohub.persistence.audio_store import AudioStore, sha256_file
from audiohub.persistence.db import Database, migrate
from audiohub.persistence.service import SqlStore
from tests.conftest import AUDIO, make_settings

WAV = AUDIO / "healthcare_appointment_16k.wav"


def make_record(sha: str, *, domain: str = "banking", score: float = -0.5) -> CallRecord:
    words = [Word(word=" My", start=0.0, end=0.3, probability=0.9),
             Word(word=" card", start=0.3, end=0.6, probability=0.9),
             Word(word=" 4567.", start=0.6, end=1.2, probability=0.8)]
    transcript = Transcript.from_segments(
        [Segment(id=0, start=0.0, end=1.2, text=" My card 4567.", words=words)], "en", 2.0)
    metrics = GeneralMetrics(
        summary="My card 4567.", sentiment=Sentiment(label="negative", score=score),
        call_outcome="resolved", key_topics=["card"], action_items=[], pii_detected=["card_number"],
        duration_seconds=2.0, language="en", talk_time_seconds=1.2, silence_ratio=0.4,
        words_per_minute=150.0)
    extraction = Extraction(
        domain_specific_data={"customer_name": None, "card_last_four": "4567", "reason": None},
        evidence={"card_last_four": Evidence(text="4567", char_start=8, char_end=12,
                                             start_s=0.6, end_s=1.2)},
        general_metrics=metrics)
    return CallRecord(
        filename="call.wav", audio_sha256=sha, audio_format="wav", transcript=transcript,
        classification=Classification(domain=domain, category="card_block", score=0.6, margin=0.2),
        extraction=extraction, token_usage=TokenUsage.of(TokenCount(), TokenCount()),
        prompt_version=1)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> SqlStore:
    db = Database(make_settings(tmp_path, database_url).database_url)
    migrate(db.engine)
    return SqlStore(db, AudioStore(tmp_path / "audio"))


def test_save_and_read_back(store: SqlStore) -> None:
    sha = sha256_file(WAV)
    record = make_record(sha)
    call_id = store.save(record, WAV)
    got = store.get(call_id)
    assert got.database.call_id == call_id and got.database.success
    assert got.transcription == "My card 4567."
    assert got.domain_specific_data == record.extraction.domain_specific_data
    assert got.evidence == record.extraction.evidence
    assert got.general_metrics == record.extraction.general_metrics
    assert got.segments == record.transcript.segments
    stored = store.files.find(sha)
    assert stored is not None and stored.read_bytes() == WAV.read_bytes()
    assert stored.name == f"{sha}.wav"


def test_same_audio_is_stored_once(store: SqlStore) -> None:
    sha = sha256_file(WAV)
    store.save(make_record(sha), WAV)
    store.save(make_record(sha), WAV)
    assert len(list((store.files.root).rglob("*.wav"))) == 1
    assert store.count() == 2


def test_missing_call_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="no call with id 999"):
        store.get(999)


def test_failed_domain_row_leaves_nothing(store: SqlStore) -> None:
    """The two tables are written in one transaction: if the second insert fails, the first is
    rolled back and the recording this save added is removed."""

    def refuse(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO DOMAIN_SPECIFIC"):
            raise RuntimeError("disk full")

    event.listen(store.db.engine, "before_cursor_execute", refuse)
    sha = sha256_file(WAV)
    with pytest.raises((StorageError, RuntimeError)):
        store.save(make_record(sha), WAV)
    event.remove(store.db.engine, "before_cursor_execute", refuse)
    with store.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM calls")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM domain_specific")).scalar() == 0
    assert store.files.find(sha) is None


def test_stats(store: SqlStore) -> None:
    assert store.stats().total_calls == 0
    assert store.stats().average_sentiment is None
    sha = sha256_file(WAV)
    store.save(make_record(sha, score=-0.5), WAV)
    store.save(make_record(sha, score=0.5), WAV)
    store.save(make_record(sha, domain="telecom", score=0.3), WAV)
    s = store.stats()
    assert s.total_calls == 3
    assert s.by_domain == {"banking": 2, "telecom": 1}
    assert s.by_category == {"banking/card_block": 2, "telecom/card_block": 1}
    assert s.average_duration_seconds == 2.0
    assert s.average_sentiment == pytest.approx(0.1, abs=1e-4)
