"""Eval manifests: audio files with their reference transcript and expected answers, and the
categories a set brings that the prompt library lacks."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from audiohub.errors import InvalidInputError


class KeytermMode(StrEnum):
    """Which custom vocabulary an eval run gives each call (issue 16's two keyterm runs)."""

    NONE = "none"
    # The names, places and products of the call's own expected values: a company that knows
    # its customers, products and sites.
    CALL = "call"
    # Only the company's own brand and branch names: what every company knows.
    COMPANY = "company"


class EvalItem(BaseModel):
    """One labeled call. `audio` is relative to the manifest's folder unless absolute; a
    manifest for reference-text runs only may have none.

    `keyterms` and `company_terms` are labelled in eval/calls/*.yaml by the rule written there.
    `outcome` and `action_items` (phrases copied from the call) are None where not labelled.
    """

    id: str
    audio: Path | None = None
    reference: str
    domain: str
    category: str
    fields: dict[str, str | None] = Field(default_factory=dict)
    keyterms: list[str] = Field(default_factory=list)
    company_terms: list[str] = Field(default_factory=list)
    outcome: str | None = None
    action_items: list[str] | None = None

    def terms_for(self, mode: KeytermMode) -> list[str]:
        """The keyterms a run in `mode` passes with this call."""
        if mode is KeytermMode.CALL:
            return self.keyterms
        if mode is KeytermMode.COMPANY:
            return self.company_terms
        return []


class Manifest(BaseModel):
    name: str
    items: list[EvalItem]
    # New pairs, each the JSON body of POST /api/prompts: the eval creates them in its own prompt
    # store before the calls run, through the path that request takes (which validates them).
    categories: list[dict[str, Any]] = Field(default_factory=list)


def load_manifest(path: Path, need_audio: bool = True) -> Manifest:
    """Read a YAML or JSON manifest and resolve its audio paths.

    Args:
        path: the manifest.
        need_audio: every call must have its audio file (not so for reference-text runs).

    Raises:
        InvalidInputError: the file is not a manifest, or an audio file is missing.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        manifest = Manifest.model_validate({"name": path.stem, **raw})
    except (OSError, yaml.YAMLError, ValidationError, TypeError) as exc:
        raise InvalidInputError(f"{path} is not a readable eval manifest: {exc}") from exc
    for item in manifest.items:
        if item.audio is not None:
            item.audio = (path.parent / item.audio).resolve()
        if not need_audio:
            continue
        if item.audio is None:
            raise InvalidInputError(f"{path}: call {item.id} has no audio; its script alone is "
                                    "scored with --reference-text")
        if not item.audio.is_file():
            raise InvalidInputError(f"{path}: audio for {item.id} not found at {item.audio}")
    return manifest
