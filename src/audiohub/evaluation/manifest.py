"""Eval manifests: audio files with their reference transcript and expected answers."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from audiohub.errors import InvalidInputError


class EvalItem(BaseModel):
    """One labeled call. `audio` is relative to the manifest's folder unless absolute."""

    id: str
    audio: Path
    reference: str
    domain: str
    category: str
    fields: dict[str, str | None] = Field(default_factory=dict)


class Manifest(BaseModel):
    name: str
    items: list[EvalItem]


def load_manifest(path: Path) -> Manifest:
    """Read a YAML or JSON manifest and resolve its audio paths.

    Raises:
        InvalidInputError: the file is not a manifest, or an audio file is missing.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        manifest = Manifest.model_validate({"name": path.stem, **raw})
    except (OSError, yaml.YAMLError, ValidationError, TypeError) as exc:
        raise InvalidInputError(f"{path} is not a readable eval manifest: {exc}") from exc
    for item in manifest.items:
        item.audio = (path.parent / item.audio).resolve()
        if not item.audio.is_file():
            raise InvalidInputError(f"{path}: audio for {item.id} not found at {item.audio}")
    return manifest
