from __future__ import annotations

from pathlib import Path

import pytest

from audiohub.config import Settings
from audiohub.errors import ConfigurationError


def test_defaults_are_offline_and_embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WHISPER_MODEL")  # the suite's own choice (tests/conftest.py)
    s = Settings()
    assert s.port == 8000
    assert s.whisper.model == "base"
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


def test_backends_switch_by_environment_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from audiohub.extraction.backends import get_analyzer
    from audiohub.extraction.backends.llm import LLMAnalyzer
    from audiohub.llm.gemini import GeminiClient
    from audiohub.llm.openai_compat import OpenAICompatClient
    from audiohub.transcription.backends import get_transcriber
    from audiohub.transcription.backends.gemini import GeminiTranscriber

    monkeypatch.setenv("ANALYZER", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("OPENAI_MODEL", "smollm2")
    analyzer = get_analyzer(Settings())
    assert isinstance(analyzer, LLMAnalyzer) and isinstance(analyzer.client, OpenAICompatClient)
    assert analyzer.client.model == "smollm2"

    monkeypatch.setenv("ANALYZER", "gemini")
    monkeypatch.setenv("TRANSCRIBER", "gemini")
    with pytest.raises(ConfigurationError, match="GEMINI_API_KEY"):
        get_analyzer(Settings())
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    monkeypatch.setenv("LLM_MODEL", "gemini-2.0-flash")  # the seed's name for it
    analyzer = get_analyzer(Settings())
    assert isinstance(analyzer, LLMAnalyzer) and isinstance(analyzer.client, GeminiClient)
    assert analyzer.client.model == "gemini-2.0-flash"
    assert isinstance(get_transcriber(Settings()), GeminiTranscriber)

    monkeypatch.setenv("ANALYZER", "claude")
    with pytest.raises(ValueError, match="ANALYZER"):
        Settings()


def test_an_empty_service_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty secret must not turn into a token every caller matches."""
    monkeypatch.setenv("SERVICE_TOKEN", "")
    assert Settings().services.token is None
