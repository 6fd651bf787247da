"""What the deployment tests share: the five services, the variables the hub reads, the Dockerfile.

There is no Docker engine or cluster here, so the tests in this package read the Dockerfile,
.dockerignore, docker-compose.yml, .env.example and deploy/k8s/ as data and check the contracts a
deployment depends on: which stage each service runs, on which port, how it is probed, what it
is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

import pytest

from audiohub.config import env_names

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
NETWORK = "audio-hub-network"

# Every environment variable the hub reads: its settings, plus the one the Hugging Face libraries
# read for it.
HUB_ENV_VARS = frozenset(env_names() | {"HF_HUB_OFFLINE"})
# What the image may set besides the hub's own variables.
IMAGE_ENV_VARS = frozenset({"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"})


def assert_hub_reads(names: Iterable[str], where: str) -> None:
    """Every name is a variable the hub reads: anything else is a typo or a dead setting."""
    unknown = set(names) - HUB_ENV_VARS
    assert not unknown, f"{where} sets variables the hub does not read: {sorted(unknown)}"


class Svc(NamedTuple):
    name: str
    stage: str
    port: int
    port_var: str

    @property
    def url_var(self) -> str:
        """The variable through which other services find this one."""
        return f"{self.stage.upper()}_SERVICE_URL"

    @property
    def url(self) -> str:
        return f"http://{self.name}:{self.port}"


SERVICES = (
    Svc("api-gateway", "gateway", 8000, "API_GATEWAY_PORT"),
    Svc("transcription-service", "transcription", 8001, "TRANSCRIPTION_SERVICE_PORT"),
    Svc("prompt-service", "prompt", 8002, "PROMPT_SERVICE_PORT"),
    Svc("extraction-service", "extraction", 8003, "EXTRACTION_SERVICE_PORT"),
    Svc("persistence-service", "persistence", 8004, "PERSISTENCE_SERVICE_PORT"),
)
STAGE_SERVICES = tuple(s for s in SERVICES if s.name != "api-gateway")
# The gateway too: its jobs live next to the calls (the WORKERS below, not Svcs, as well).
NEEDS_DATABASE = {"prompt-service", "persistence-service", "api-gateway"}

per_service = pytest.mark.parametrize("svc", SERVICES, ids=[s.name for s in SERVICES])


class Worker(NamedTuple):
    """An `audiohub worker --queues <its half's queue>` service: one half of every job."""

    name: str
    half: Literal["transcription", "analysis"]

    @property
    def loads_whisper(self) -> bool:
        return self.half == "transcription"


WORKERS = (Worker("transcription-worker", "transcription"), Worker("analysis-worker", "analysis"))

per_worker = pytest.mark.parametrize("wk", WORKERS, ids=[w.name for w in WORKERS])


def other_port_vars(svc: Svc) -> set[str]:
    """The other services' port variables: a service told one of them would bind that port."""
    return {s.port_var for s in SERVICES} - {svc.port_var}


# --- Dockerfile -------------------------------------------------------------------------------

class Instruction(NamedTuple):
    keyword: str
    args: str


@cache
def dockerfile() -> tuple[Instruction, ...]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    out: list[Instruction] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    return tuple(out)


def build_args() -> dict[str, str]:
    """Default values of the ARGs declared before the first FROM (or anywhere, first wins)."""
    args: dict[str, str] = {}
    for ins in dockerfile():
        if ins.keyword == "ARG" and "=" in ins.args:
            name, _, default = ins.args.partition("=")
            args.setdefault(name, default)
    return args
