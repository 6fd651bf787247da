from __future__ import annotations

from pathlib import Path

import pytest

from audiohub.config import Settings
from audiohub.errors import ConfigurationError


def test_defaults_are_offline_and_embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.port == 8000
    assert s.whisper.model == "tiny.en"
    assert s.analysis.analyzer == "local"
    assert s.database_url == f"sqlite:///{(tmp_path / 'data' / 'audiohub.db').resolve()}"
    assert s.max_upload_bytes == 200 * 1024 * 1024


def test_seed_and_hub_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_GATEWAY_PORT", "9100")
    monkeypatch.setenv("SERVICE_TIMEOUT", "12")
    monkeypatch.setenv("WHISPER_MODEL", "base")
    monkeypatch.setenv("MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/hub")
    s = Settings()
    assert (s.port, s.service_timeout, s.whisper.model) == (9100, 12, "base")
    assert s.max_upload_bytes == 5 * 1024 * 1024
    assert s.database_url == "postgresql+psycopg://u:p@db:5432/hub"


def test_supabase_client_settings_alone_say_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_URL", "https://abc.supabase.co")
    monkeypatch.setenv("SUPABASE_SERVICE_KEY", "secret")
    with pytest.raises(ConfigurationError, match=r"DATABASE_URL.*Postgres connection string"):
        Settings()
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:pw@db.abc.supabase.co:5432/postgres")
    assert Settings().database_url.startswith("postgresql+psycopg://")
