"""Builds every stage from Settings for the one-process hub (API server and CLI alike)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from audiohub.config import Settings
from audiohub.extraction.backends import get_analyzer
from audiohub.extraction.base import Analyzer
from audiohub.extraction.service import ExtractionService
from audiohub.gateway.clients import (
    LocalExtraction,
    LocalPersistence,
    LocalPrompts,
    LocalTranscription,
    Stages,
)
from audiohub.gateway.pipeline import Pipeline
from audiohub.persistence.audio_store import AudioStore
from audiohub.persistence.db import Database, migrate
from audiohub.persistence.service import SqlStore
from audiohub.prompts.service import SqlPromptStore
from audiohub.transcription.backends import get_transcriber
from audiohub.transcription.base import Transcriber
from audiohub.transcription.service import TranscriptionService


@dataclass
class Hub:
    settings: Settings
    db: Database
    prompts: SqlPromptStore
    store: SqlStore
    transcriber: Transcriber
    analyzer: Analyzer
    stages: Stages
    pipeline: Pipeline

    def load_models(self) -> None:
        """Load the transcriber's and analyzer's models once, at start."""
        self.transcriber.load()
        self.analyzer.load()

    def load_analyzer_in_background(self) -> threading.Thread:
        """Load the analyzer while the first file is transcribed (the CLI's cold start).

        Whoever needs the analyzer first simply waits on its load lock, so no result changes.
        """
        thread = threading.Thread(target=self.analyzer.load, name="load-analyzer", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.db.engine.dispose()


def build_hub(settings: Settings) -> Hub:
    """Migrate the database, seed the prompt library and wire the stages in-process.

    Backends are constructed before anything is written, so a misconfigured one fails the start
    with its own message instead of after a half-done migration.
    """
    transcriber = get_transcriber(settings)
    analyzer = get_analyzer(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    migrate(db.engine)
    prompts = SqlPromptStore(db)
    prompts.seed()
    store = SqlStore(db, AudioStore(settings.audio_dir))
    stages = Stages(
        transcription=LocalTranscription(TranscriptionService(
            transcriber, analyzer, prompts, settings.stereo_agent_channel)),
        prompts=LocalPrompts(prompts),
        extraction=LocalExtraction(ExtractionService(analyzer, settings.review)),
        persistence=LocalPersistence(store),
    )
    return Hub(settings, db, prompts, store, transcriber, analyzer, stages, Pipeline(stages))
