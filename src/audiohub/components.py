"""The hub's local building blocks, each built on first use: a process that runs only the
extraction stage never opens the database, one that runs only persistence never loads a model."""

from __future__ import annotations

from functools import cached_property

from audiohub.config import Settings
from audiohub.extraction.backends import get_analyzer
from audiohub.extraction.base import Analyzer
from audiohub.extraction.service import ExtractionService
from audiohub.persistence.audio_store import AudioStore
from audiohub.persistence.db import Database, migrate
from audiohub.persistence.service import SqlStore
from audiohub.prompts.base import PromptStore
from audiohub.prompts.client import HttpPromptStore
from audiohub.prompts.generation import PromptGenerator
from audiohub.prompts.service import SqlPromptStore
from audiohub.transcription.backends import get_transcriber
from audiohub.transcription.base import Transcriber
from audiohub.transcription.coverage import VadConfig
from audiohub.transcription.service import TranscriptionService
from audiohub.transcription.vocabulary import Vocabulary


class Components:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def transcriber(self) -> Transcriber:
        return get_transcriber(self.settings)

    @cached_property
    def analyzer(self) -> Analyzer:
        return get_analyzer(self.settings)

    @cached_property
    def db(self) -> Database:
        """The database, migrated to the latest schema."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(self.settings.database_url)
        migrate(db.engine)
        return db

    @cached_property
    def prompts(self) -> SqlPromptStore:
        """The prompt store on this process's database, with the shipped library seeded."""
        store = SqlPromptStore(self.db)
        store.seed()
        return store

    @cached_property
    def store(self) -> SqlStore:
        return SqlStore(self.db, AudioStore(self.settings.audio_dir))

    @cached_property
    def prompt_source(self) -> PromptStore:
        """Where classification reads the pairs: the prompt service if PROMPT_SERVICE_URL is
        set, else this process's database."""
        url = self.settings.services.url("prompt")
        if url is None:
            return self.prompts
        return HttpPromptStore(url, self.settings.services, self.settings.service_timeout)

    @cached_property
    def prompt_generator(self) -> PromptGenerator:
        """Known pairs from the store; unknown ones written by the analyzer if it can (LLMs)."""
        return PromptGenerator(self.prompts, self.analyzer)

    def transcription_service(self) -> TranscriptionService:
        s = self.settings
        return TranscriptionService(self.transcriber, self.analyzer, self.prompt_source,
                                    s.stereo_agent_channel, s.max_audio_minutes * 60,
                                    Vocabulary.load(s.vocabulary_file),
                                    s.whisper.coverage_min_gap_s,
                                    VadConfig(threshold=s.whisper.vad_threshold))

    def extraction_service(self) -> ExtractionService:
        return ExtractionService(self.analyzer, self.settings.review)

    def close(self) -> None:
        if "prompt_generator" in self.__dict__:
            self.prompt_generator.wait_saved()
        if "db" in self.__dict__:
            self.db.engine.dispose()
        source = self.__dict__.get("prompt_source")
        if isinstance(source, HttpPromptStore):
            source.close()
