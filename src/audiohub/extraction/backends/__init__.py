"""Analyzer backends by name (ANALYZER=...). Built-ins register here like plugins would."""

from __future__ import annotations

from collections.abc import Callable

from audiohub.config import Settings
from audiohub.errors import ConfigurationError
from audiohub.extraction.base import Analyzer


def _local(settings: Settings) -> Analyzer:
    from audiohub.extraction.backends.local.analyzer import LocalAnalyzer

    return LocalAnalyzer(settings.analysis)


def _openai(settings: Settings) -> Analyzer:
    from audiohub.extraction.backends.llm import LLMAnalyzer
    from audiohub.llm.openai_compat import OpenAICompatClient

    return LLMAnalyzer(OpenAICompatClient(settings.llm), settings.llm)


def _gemini(settings: Settings) -> Analyzer:
    from audiohub.extraction.backends.llm import LLMAnalyzer
    from audiohub.llm.gemini import GeminiClient

    return LLMAnalyzer(GeminiClient(settings.llm), settings.llm)


ANALYZERS: dict[str, Callable[[Settings], Analyzer]] = {
    "local": _local, "openai": _openai, "gemini": _gemini,
}


def get_analyzer(settings: Settings) -> Analyzer:
    try:
        factory = ANALYZERS[settings.analysis.analyzer]
    except KeyError:
        raise ConfigurationError(
            f"ANALYZER={settings.analysis.analyzer!r} is unknown; choose one of {sorted(ANALYZERS)}"
        ) from None
    return factory(settings)
