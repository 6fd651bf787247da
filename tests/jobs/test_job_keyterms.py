"""`keyterms` on POST /api/jobs: kept with the job (its row's `options`, so whichever worker runs
it, after any restart, uses them), shown in the job's JSON, heard in the call (real Whisper
base on an 8 kHz call where the hint turns "non-carter" into "John Carter"; tiny.en hears it right
unhinted on some CPUs), and part of what
makes two jobs "the same": a recording analysed without them is never handed back for a job
that has them, nor the other way round."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from audiohub.config import WhisperSettings
from audiohub.gateway.app import create_app
from audiohub.jobs.models import JobRow
from audiohub.persistence.db import Database
from tests.conftest import AUDIO, make_settings
from tests.jobs.test_jobs_api import submit, wait_done
from tests.keys import authorize

CALL = AUDIO / "banking_card_block_8k.wav"


def test_keyterms_are_kept_used_and_part_of_the_dedupe_key(
        tmp_path: Path, database_url: str | None) -> None:
    settings = make_settings(tmp_path / "data", database_url,
                             whisper=WhisperSettings(model="base", WHISPER_KEYTERM_HINT="hotwords"))
    with TestClient(create_app(settings)) as client:
        authorize(client, "analyst")
        r = submit(client, CALL, data={"keyterms": "John Carter, Metro Bank"})
        assert r.status_code == 202, r.text
        hinted = wait_done(client, r.json()["job_id"], timeout=600)
        assert hinted["status"] == "done", hinted
        assert hinted["keyterms"] == ["John Carter", "Metro Bank"]
        assert "John Carter" in hinted["result"]["transcription"]

        # The same recording without them: analysed afresh, not the hinted call handed back.
        plain = wait_done(client, submit(client, CALL).json()["job_id"], timeout=600)
        assert plain["deduplicated"] is False and plain["call_id"] != hinted["call_id"]
        assert plain["keyterms"] == []
        assert "John Carter" not in plain["result"]["transcription"]

        # The same terms (other order and case, as a raw body's query parameters): reused.
        raw = client.post("/api/jobs", content=CALL.read_bytes(),
                          params=[("keyterms", "metro bank"), ("keyterms", "JOHN CARTER")],
                          headers={"Content-Type": "audio/wav"})
        assert raw.status_code == 202, raw.text
        again = wait_done(client, raw.json()["job_id"], timeout=600)
        assert again["deduplicated"] is True and again["call_id"] == hinted["call_id"]
        assert again["keyterms"] == ["metro bank", "JOHN CARTER"]
        # And none again: the plain call.
        none_again = wait_done(client, submit(client, CALL).json()["job_id"], timeout=600)
        assert none_again["deduplicated"] is True
        assert none_again["call_id"] == plain["call_id"]

        bad = submit(client, CALL, data={"keyterms": "x" * 51})
        assert bad.status_code == 422, bad.text
        assert "longer than 50 characters" in bad.json()["detail"]
        assert client.get("/api/jobs").json()["total"] == 4  # the refused one was never a job

    db = Database(settings.database_url)
    with db.session() as session:
        assert session.get(JobRow, hinted["job_id"]).options == {  # type: ignore[union-attr]
            "keyterms": ["John Carter", "Metro Bank"]}
        assert session.get(JobRow, plain["job_id"]).options is None  # type: ignore[union-attr]
    db.engine.dispose()
