"""Settings, built by `create_app(settings)` and the CLI, never at import time.

Every backend has its own nested settings model with its own environment prefix, so the flat
variable names users know (WHISPER_MODEL, DATABASE_URL, the seed's API_GATEWAY_PORT ...) keep
working while tests pass a Settings object instead of patching the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from audiohub.errors import ConfigurationError

_ENV = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
)


class WhisperSettings(BaseSettings):
    """faster-whisper options (WHISPER_*)."""

    model_config = SettingsConfigDict(env_prefix="WHISPER_", **_ENV)

    # "base" (the default: met the quality targets on the tuning set, where tiny.en missed the
    # WER one; see README "Accuracy"), "tiny.en" (about 3x faster, less accurate) or a path to
    # any CTranslate2 model directory. Both named models come from PyPI packages.
    model: str = "base"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    beam_size: int = Field(default=5, ge=1, le=10)
    cpu_threads: int = Field(default=0, ge=0)
    vad_filter: bool = True
    # Silero VAD options (faster-whisper's defaults); used only when vad_filter is on.
    vad_threshold: float = Field(default=0.5, gt=0, lt=1)
    vad_min_silence_ms: int = Field(default=2000, ge=0)
    vad_speech_pad_ms: int = Field(default=400, ge=0)
    # "en" (the default), another Whisper language code, or "auto" (detected per call, stored
    # and shown; a multilingual model is needed: base, not tiny.en).
    language: str | None = "en"
    # With device cuda: faster-whisper's BatchedInferencePipeline, this many windows at once.
    batch_size: int = Field(default=8, ge=1, le=64)
    # How keyterms reach the decoder: faster-whisper's `hotwords`, the initial prompt, or not at
    # all (the correction pass still uses them). See README "Custom vocabulary".
    keyterm_hint: Literal["hotwords", "prompt", "none"] = "hotwords"
    # A VAD speech stretch at least this long with no words is decoded again on its own.
    coverage_min_gap_s: float = Field(default=1.5, gt=0, validation_alias="COVERAGE_MIN_GAP_S")

    @field_validator("language", mode="before")
    @classmethod
    def _auto_is_none(cls, value: object) -> object:
        # faster-whisper detects the language when given None.
        return None if isinstance(value, str) and value.strip().lower() in {"auto", ""} else value


class AnalyzerSettings(BaseSettings):
    """Which analyzer runs the classification, extraction and metrics (ANALYZER=...)."""

    model_config = SettingsConfigDict(**_ENV)

    analyzer: Literal["local", "gemini", "openai"] = Field(
        default="local", validation_alias="ANALYZER"
    )
    # Cosine similarity under which the local classifier answers general/general_inquiry.
    classify_threshold: float = Field(default=0.25, validation_alias="CLASSIFY_THRESHOLD")


class LLMSettings(BaseSettings):
    """LLM providers (ANALYZER=openai|gemini, TRANSCRIBER=gemini) and what every LLM call obeys."""

    model_config = SettingsConfigDict(**_ENV)

    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_model: str = Field(default="gpt-4o-mini", validation_alias="OPENAI_MODEL")
    # How the server takes a schema: OpenAI, vLLM and Ollama take `json_schema`; llama.cpp's
    # server rejects it and takes `json_object` with a `schema` beside it.
    openai_schema_mode: Literal["json_schema", "json_object"] = Field(
        default="json_schema", validation_alias="OPENAI_SCHEMA_MODE"
    )
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias="GEMINI_API_KEY")
    # The seed's `llm_model`.
    gemini_model: str = Field(
        default="gemini-2.0-flash", validation_alias=AliasChoices("GEMINI_MODEL", "LLM_MODEL")
    )
    # Where the google-genai SDK sends requests (a proxy, or a local stand-in in tests).
    gemini_base_url: str | None = Field(default=None, validation_alias="GEMINI_BASE_URL")
    gemini_timeout: float = Field(default=60, gt=0, validation_alias="GEMINI_TIMEOUT")
    timeout: float = Field(default=60, gt=0, validation_alias="LLM_TIMEOUT")
    # Attempts for timeouts, 429 (after its Retry-After) and 5xx, before giving up.
    attempts: int = Field(default=3, ge=1, le=10, validation_alias="LLM_ATTEMPTS")
    max_tokens: int = Field(default=1024, ge=64, validation_alias="LLM_MAX_TOKENS")
    # Transcripts longer than this many characters are analysed in chunks, fields merged.
    chunk_chars: int = Field(default=6000, ge=500, validation_alias="LLM_CHUNK_CHARS")
    redact_pii: bool = Field(default=False, validation_alias="REDACT_PII_BEFORE_LLM")


class ReviewSettings(BaseSettings):
    """When a call gets `needs_review: true` (REVIEW_*)."""

    model_config = SettingsConfigDict(env_prefix="REVIEW_", **_ENV)

    min_classification_score: float = 0.3
    min_margin: float = 0.03
    min_word_probability: float = 0.7
    # A call is reviewed when more than this share of its speech time lies in segments Whisper's
    # own signals mark unreliable (extraction/confidence.py); chosen on the tuning calls to
    # single out those with WER over 0.25 (README "Accuracy"). 1 turns the check off.
    max_unreliable_share: float = Field(default=0.4, ge=0, le=1)
    # A segment is unreliable when its decoding window's mean token log-probability is under
    # this, or when it holds a run of `low_word_run` words each under `low_word_probability`.
    unreliable_logprob: float = -0.5
    low_word_run: int = Field(default=3, ge=1)
    low_word_probability: float = Field(default=0.5, ge=0, le=1)


class DatabaseSettings(BaseSettings):
    """Where calls, fields and prompts are stored."""

    model_config = SettingsConfigDict(**_ENV)

    url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # The seed's Supabase client variables: kept so we can say exactly what to use instead.
    supabase_url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    supabase_service_key: SecretStr | None = Field(
        default=None, validation_alias="SUPABASE_SERVICE_KEY"
    )


class JobSettings(BaseSettings):
    """Background jobs (POST /api/jobs) and their webhooks."""

    model_config = SettingsConfigDict(**_ENV)

    workers: int = Field(default=1, ge=1, le=64, validation_alias="WORKERS")
    # Signs every webhook (HMAC-SHA256 of timestamp + body); unset, webhooks go unsigned.
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    webhook_attempts: int = Field(default=5, ge=1, le=20, validation_alias="WEBHOOK_ATTEMPTS")
    webhook_backoff_seconds: float = Field(
        default=2.0, ge=0, validation_alias="WEBHOOK_BACKOFF_SECONDS"
    )
    # Seconds one attempt may take in all (resolve, connect, send, the answer's headers),
    # however slowly the receiver trickles its answer.
    webhook_timeout: float = Field(default=10.0, gt=0, le=300, validation_alias="WEBHOOK_TIMEOUT")
    # Receivers webhooks may reach although they resolve to an internal address (loopback,
    # private, link-local ...): comma-separated host names, addresses or CIDRs, e.g.
    # "hooks.internal,10.0.0.0/8". Everything else must resolve to public addresses only.
    webhook_allow_hosts: str = Field(default="", validation_alias="WEBHOOK_ALLOW_HOSTS")
    # Threads sending webhooks, apart from the job workers: a slow receiver holds only these.
    webhook_workers: int = Field(default=4, ge=1, le=64, validation_alias="WEBHOOK_WORKERS")
    # A job whose stage is down (connection refused, timeout, 502-504) goes back as `retrying`
    # with its recording and finished work kept, this many runs in all before it fails, waiting
    # JOB_RETRY_BACKOFF_SECONDS, then twice that, and so on, between them.
    max_attempts: int = Field(default=5, ge=1, le=50, validation_alias="JOB_MAX_ATTEMPTS")
    retry_backoff_seconds: float = Field(default=30, ge=0,
                                         validation_alias="JOB_RETRY_BACKOFF_SECONDS")
    # A running job's worker writes a heartbeat every sixth of this; a job without one for this
    # long (its worker died) is queued again by the next sweep (every twelfth of it).
    stale_seconds: float = Field(default=60, ge=1, le=3600, validation_alias="JOB_STALE_SECONDS")
    # How long a failed job keeps its recording (and kept transcription) for a retry.
    failed_retention_days: float = Field(default=7, gt=0,
                                         validation_alias="FAILED_JOB_RETENTION_DAYS")
    # Jobs not yet ended (queued, retrying, running) past which new ones get 503 + Retry-After.
    max_queued: int = Field(default=1000, ge=1, validation_alias="MAX_QUEUED_JOBS")


class CelerySettings(BaseSettings):
    """The Celery queue backend (CELERY_*); unset CELERY_BROKER_URL keeps the in-process one."""

    model_config = SettingsConfigDict(**_ENV)

    # redis://host:6379/0, or amqp://user:password@host:5672// for RabbitMQ.
    broker_url: str | None = Field(default=None, validation_alias="CELERY_BROKER_URL")
    # Seconds after which a message a worker took but never acknowledged (it was killed) is
    # delivered again (Redis). Must exceed the longest job, or a running job is started twice.
    visibility_timeout: int = Field(
        default=3600, ge=1, validation_alias="CELERY_VISIBILITY_TIMEOUT"
    )
    # A job is two tasks on two queues, so transcription can run on GPU hosts and analysis
    # elsewhere: the gateway publishes to the first, a transcription worker hands over to the
    # second. `audiohub worker` consumes both unless told --queues.
    transcription_queue: str = Field(
        default="transcription", min_length=1, validation_alias="CELERY_TRANSCRIPTION_QUEUE")
    analysis_queue: str = Field(
        default="analysis", min_length=1, validation_alias="CELERY_ANALYSIS_QUEUE")
    # How long a transcription worker keeps trying to queue a job's analysis while the broker
    # is away; after that the job fails, saying so.
    handoff_seconds: float = Field(default=300, ge=0, validation_alias="CELERY_HANDOFF_SECONDS")


RoleName = Literal["admin", "analyst", "uploader", "viewer"]


class AuthSettings(BaseSettings):
    """Who may call the gateway and the dashboard (AUTH, AUTH_*), how hard, and for how long
    calls are kept (RETENTION_DAYS, AUDIO_RETENTION_DAYS)."""

    model_config = SettingsConfigDict(**_ENV)

    # "off" only for a hub bound to loopback: `audiohub serve` refuses it on any other address.
    mode: Literal["on", "off"] = Field(default="on", validation_alias="AUTH")
    # Secure on the session cookie even over plain http (behind a TLS-terminating proxy); also
    # turns on HSTS.
    cookie_secure: bool = Field(default=False, validation_alias="AUTH_COOKIE_SECURE")
    session_hours: float = Field(default=12, gt=0, le=24 * 30,
                                 validation_alias="AUTH_SESSION_HOURS")
    # Single sign-on through a proxy (oauth2-proxy, Authelia): the header naming the user,
    # believed only from these addresses, and the role its users get unless they have one here.
    proxy_header: str | None = Field(default=None, validation_alias="AUTH_PROXY_HEADER")
    proxy_trusted: str = Field(default="", validation_alias="AUTH_PROXY_TRUSTED")
    proxy_default_role: RoleName = Field(default="viewer",
                                         validation_alias="AUTH_PROXY_DEFAULT_ROLE")
    # Attempts per client and window (the `limits` library's notation, e.g. "10/minute").
    login_rate: str = Field(default="10/minute", validation_alias="RATE_LIMIT_LOGIN")
    upload_rate: str = Field(default="120/minute", validation_alias="RATE_LIMIT_UPLOADS")
    # Where the counters live: memory:// (one process) or redis://host:6379/1 (shared).
    rate_limit_storage: str = Field(default="memory://", validation_alias="RATE_LIMIT_STORAGE")
    retention_days: int | None = Field(default=None, ge=1, validation_alias="RETENTION_DAYS")
    audio_retention_days: int | None = Field(default=None, ge=1,
                                             validation_alias="AUDIO_RETENTION_DAYS")

    @field_validator("proxy_header", "retention_days", "audio_retention_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def enabled(self) -> bool:
        return self.mode == "on"


StageName = Literal["transcription", "prompt", "extraction", "persistence"]
STAGES: tuple[StageName, ...] = ("transcription", "prompt", "extraction", "persistence")


class ServiceSettings(BaseSettings):
    """The seed's five-service layout: each stage's port, and its URL when it runs elsewhere.

    A stage whose `*_SERVICE_URL` is unset runs inside the calling process.
    """

    model_config = SettingsConfigDict(**_ENV)

    transcription_port: int = Field(default=8001, validation_alias="TRANSCRIPTION_SERVICE_PORT")
    prompt_port: int = Field(default=8002, validation_alias="PROMPT_SERVICE_PORT")
    extraction_port: int = Field(default=8003, validation_alias="EXTRACTION_SERVICE_PORT")
    persistence_port: int = Field(default=8004, validation_alias="PERSISTENCE_SERVICE_PORT")
    transcription_url: str | None = Field(
        default=None, validation_alias="TRANSCRIPTION_SERVICE_URL"
    )
    prompt_url: str | None = Field(default=None, validation_alias="PROMPT_SERVICE_URL")
    extraction_url: str | None = Field(default=None, validation_alias="EXTRACTION_SERVICE_URL")
    persistence_url: str | None = Field(default=None, validation_alias="PERSISTENCE_SERVICE_URL")
    # Shared secret between the gateway and the stage services (header X-Service-Token).
    token: SecretStr | None = Field(default=None, validation_alias="SERVICE_TOKEN")
    # The seed's retry rule: 3 attempts, waiting 2^attempt seconds between them.
    attempts: int = Field(default=3, ge=1, le=10, validation_alias="SERVICE_ATTEMPTS")
    backoff_seconds: float = Field(default=1.0, ge=0, validation_alias="SERVICE_BACKOFF_SECONDS")

    @field_validator("token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        # SERVICE_TOKEN="" (an empty Kubernetes secret) must not mean "every caller matches".
        return None if value == "" else value

    def port(self, stage: StageName) -> int:
        port: int = getattr(self, f"{stage}_port")
        return port

    def url(self, stage: StageName) -> str | None:
        url: str | None = getattr(self, f"{stage}_url")
        return url.rstrip("/") if url else None


class Settings(BaseSettings):
    """All hub settings. Seed variable names keep working."""

    model_config = _ENV

    data_dir: Path = Field(default=Path("data"), validation_alias="AUDIOHUB_DATA_DIR")
    # Joined/converted model weights; defaults to <data dir>/models.
    model_dir: Path | None = Field(default=None, validation_alias="AUDIOHUB_MODEL_DIR")
    host: str = Field(default="127.0.0.1", validation_alias="AUDIOHUB_HOST")
    port: int = Field(
        default=8000, validation_alias=AliasChoices("API_GATEWAY_PORT", "AUDIOHUB_PORT")
    )
    max_upload_mb: float = Field(default=200, gt=0, validation_alias="MAX_UPLOAD_MB")
    # Terms every call may contain (company, products, agents, branches): one per line,
    # `term => spoken form, another` for how it is said. See transcription/vocabulary.py.
    vocabulary_file: Path | None = Field(default=None, validation_alias="VOCABULARY_FILE")
    # WHISPER_MODEL names that are not in a local package (small, large-v3 ...) are fetched from
    # the model hub (HF_ENDPOINT) into the model dir only when this is true.
    allow_downloads: bool = Field(default=False, validation_alias="AUDIOHUB_ALLOW_DOWNLOADS")
    # The longest recording transcribed, read from its header before decoding and enforced while
    # decoding: a few MB of compressed silence can decode to hours. The decoded 16 kHz audio is
    # held whole for the transcriber, 3.84 MB a minute (240 min: ~0.92 GB).
    max_audio_minutes: float = Field(default=240, gt=0, validation_alias="MAX_AUDIO_MINUTES")
    # The names the gateway answers to (Host header), comma-separated; "*" for any, "*.x.org"
    # for a domain's hosts. Not access control (AUTH is): it keeps a page on another site that
    # re-points its own name at 127.0.0.1 (DNS rebinding) from talking to a hub with AUTH=off.
    # Add the name users reach it by (a proxy's, a LAN address).
    allowed_hosts: str = Field(default="localhost,127.0.0.1,::1",
                               validation_alias="ALLOWED_HOSTS")
    service_timeout: float = Field(default=30, gt=0, validation_alias="SERVICE_TIMEOUT")

    # Stereo calls with one party per channel: which channel is the agent's.
    stereo_agent_channel: Literal["left", "right"] = Field(
        default="left", validation_alias="STEREO_AGENT_CHANNEL"
    )
    transcriber: Literal["whisper", "gemini"] = Field(
        default="whisper", validation_alias="TRANSCRIBER"
    )
    whisper: WhisperSettings = Field(default_factory=WhisperSettings)
    analysis: AnalyzerSettings = Field(default_factory=AnalyzerSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    services: ServiceSettings = Field(default_factory=ServiceSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    # NoDecode and the validator below: the field's name is also AUTH, AuthSettings.mode's
    # variable, which the environment source would otherwise parse as this model's JSON.
    auth: Annotated[AuthSettings, NoDecode] = Field(default_factory=AuthSettings)

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_reads_its_own_variables(cls, value: object) -> object:
        # AUTH=on|off from the environment arrives here as a string; AuthSettings reads it.
        return AuthSettings() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _supabase_needs_a_connection_string(self) -> Settings:
        db = self.database
        if db.url is None and (db.supabase_url or db.supabase_service_key):
            raise ConfigurationError(
                "SUPABASE_URL/SUPABASE_SERVICE_KEY are the seed's Supabase client settings; "
                "this hub talks to Postgres directly. Set DATABASE_URL to your Supabase "
                "project's Postgres connection string (Project settings -> Database -> "
                "Connection string), e.g. "
                "postgresql://postgres:PASSWORD@db.PROJECT.supabase.co:5432/postgres"
            )
        return self

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL: DATABASE_URL, or the SQLite file in the data dir."""
        url = self.database.url
        if url is None:
            return f"sqlite:///{(self.data_dir / 'audiohub.db').resolve()}"
        # Plain postgres:// URLs (Supabase, Heroku) mean psycopg 3 here.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @property
    def models_dir(self) -> Path:
        return self.model_dir or self.data_dir / "models"


def env_names(model: type[BaseSettings] = Settings) -> set[str]:
    """Every environment variable the settings read, nested models included (for the docs and
    for checking deployment files against the code)."""
    prefix = model.model_config.get("env_prefix", "") or ""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            names |= env_names(nested)
            continue
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names |= {c for c in alias.choices if isinstance(c, str)}
        else:
            names.add(f"{prefix}{name}".upper())
    return names
