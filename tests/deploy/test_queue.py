"""The job queue in docker-compose.yml and deploy/k8s: Redis, and the two halves of every job,
`audiohub worker --queues transcription` and `--queues analysis`, each told where the broker, the
database and the shared data directory are, with nothing the hub does not read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import typer
from typer.testing import CliRunner

from audiohub.config import env_names
from audiohub.jobs.celery_backend import CelerySettings, Roles
from audiohub.jobs.worker_cli import worker
from tests.deploy.deployfiles import (
    WORKERS,
    Worker,
    assert_hub_reads,
    build_args,
    per_worker,
)
from tests.deploy.test_compose import compose, compose_env, compose_service
from tests.deploy.test_k8s import (
    CONFIG,
    SECRET,
    container,
    env_value,
    find,
    k8s_env,
    kustomization,
    resource,
    secret_ref,
)

CELERY_VARS = env_names(CelerySettings)


def celery_from(env: dict[str, Any]) -> CelerySettings:
    """What the settings of a process given these variables make of them."""
    return CelerySettings(**{k: str(v) for k, v in env.items() if k in CELERY_VARS})


def half_queue(celery: CelerySettings, wk: Worker) -> str:
    """The queue these settings assign to the worker's half of a job."""
    return celery.transcription_queue if wk.half == "transcription" else celery.analysis_queue


def queues_option(command: list[str]) -> list[str]:
    """The queues `audiohub worker --queues a,b` consumes, as worker_cli splits them."""
    assert command[:2] == ["audiohub", "worker"], command
    assert command.count("--queues") == 1, command
    value = command[command.index("--queues") + 1]
    return [q.strip() for q in value.split(",") if q.strip()]


# Per worker: its command and its environment.
Deployed = dict[Worker, tuple[list[str], dict[str, Any]]]
QUEUE_VARS = {"CELERY_TRANSCRIPTION_QUEUE", "CELERY_ANALYSIS_QUEUE"}


def assert_queues_agree(gateway_env: dict[str, Any], workers: Deployed) -> None:
    """The gateway and every worker name the same two queues, and each worker consumes exactly
    its own half's: the one the gateway publishes to, or the one the handover publishes to."""
    # Told explicitly, not left to defaults one side might change.
    assert set(gateway_env) >= QUEUE_VARS
    assert all(set(env) >= QUEUE_VARS for _, env in workers.values())
    gateway = celery_from(gateway_env)
    names = (gateway.transcription_queue, gateway.analysis_queue)
    assert names[0] != names[1], "one queue for both halves: analysis would run on GPU hosts"
    for wk, (command, env) in workers.items():
        celery = celery_from(env)
        assert (celery.transcription_queue, celery.analysis_queue) == names, wk.name
        consumed = queues_option(command)
        assert consumed == [half_queue(celery, wk)], wk.name
        # What `audiohub worker` makes of it: this half's models, not the other's.
        expected = Roles(transcription=wk.half == "transcription",
                         analysis=wk.half == "analysis")
        assert Roles.of(consumed, celery) == expected, wk.name
    assert {half_queue(gateway, wk) for wk in workers} == set(names)


def test_worker_command_takes_the_options_the_deployments_may_pass() -> None:
    app = typer.Typer()
    app.command()(worker)
    app.command("other")(lambda: None)  # a group, so the command is addressed by name
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0, result.output
    assert "--queues" in result.output and "--concurrency" in result.output


# --- docker-compose.yml ---------------------------------------------------------------------

@per_worker
def test_compose_worker_runs_its_half_against_the_redis_service(wk: Worker) -> None:
    service = compose_service(wk.name)
    env = compose_env(wk.name)
    assert_hub_reads(env, f"docker-compose.yml {wk.name}")
    assert set(env) >= CELERY_VARS, wk.name
    celery = celery_from(env)
    assert service["command"] == ["audiohub", "worker", "--queues", half_queue(celery, wk)]
    broker = urlsplit(celery.broker_url or "")
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    assert celery.visibility_timeout >= 600  # above any one task's run time
    assert "ports" not in service
    # prompt-service migrates the schema the job rows live in.
    assert set(service["depends_on"]) == {"redis", "postgres", "prompt-service"}
    assert {d["condition"] for d in service["depends_on"].values()} == {"service_healthy"}


@per_worker
def test_compose_worker_shares_the_database_data_dir_and_image(wk: Worker) -> None:
    env = compose_env(wk.name)
    assert env["DATABASE_URL"] == compose_env("persistence-service")["DATABASE_URL"]
    # Both halves read the uploads the gateway spools to /data/jobs; the analysis half stores
    # recordings where persistence-service keeps them.
    assert env["AUDIOHUB_DATA_DIR"] == compose_env("api-gateway")["AUDIOHUB_DATA_DIR"] == "/data"
    assert "recordings:/data" in compose_service(wk.name)["volumes"]
    assert "recordings:/data" in compose_service("api-gateway")["volumes"]
    stage = compose_service("transcription-service")
    assert compose_service(wk.name)["build"] == stage["build"]
    assert compose_service(wk.name)["image"] == stage["image"]
    # Both name the model: stored calls record the models that made them (the analysis half
    # writes the record), though only the transcription half loads Whisper.
    assert env["WHISPER_MODEL"] == compose_env("transcription-service")["WHISPER_MODEL"]
    if not wk.loads_whisper:
        assert not {k for k in env if k.startswith("WHISPER_")} - {"WHISPER_MODEL"}, wk.name


def test_compose_gateway_and_workers_agree_on_the_queues() -> None:
    assert_queues_agree(compose_env("api-gateway"), {
        wk: (compose_service(wk.name)["command"], compose_env(wk.name)) for wk in WORKERS})


def test_compose_redis_is_persistent_checked_and_not_published() -> None:
    redis = compose_service("redis")
    assert "ports" not in redis
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert redis["healthcheck"]["interval"] == "10s"
    assert "--appendonly" in redis["command"]
    assert "redisdata:/data" in redis["volumes"]
    assert "redisdata" in compose()["volumes"]


# --- deploy/k8s -----------------------------------------------------------------------------

def k8s_values(name: str) -> dict[str, str]:
    """A container's variables read through the ConfigMap (Secret ones left out)."""
    values = {n: env_value(entry) for n, entry in k8s_env(name).items()}
    return {n: v for n, v in values.items() if v is not None}


def test_k8s_lists_the_queue_manifests() -> None:
    assert {"redis.yaml", "worker.yaml"} <= set(kustomization()["resources"])


@per_worker
def test_k8s_worker_runs_its_half_against_the_redis_service(wk: Worker) -> None:
    env = k8s_env(wk.name)
    assert_hub_reads(env, f"deploy/k8s {wk.name}")
    assert set(env) >= CELERY_VARS, wk.name
    values = k8s_values(wk.name)
    celery = celery_from(values)
    assert container(wk.name)["command"] == ["audiohub", "worker", "--queues",
                                             half_queue(celery, wk)]
    broker = urlsplit(celery.broker_url or "")
    service = find("Service", "redis")
    assert broker.hostname == service["metadata"]["name"]
    assert broker.port == service["spec"]["ports"][0]["port"] == 6379
    defaults = CelerySettings()
    assert (celery.transcription_queue, celery.analysis_queue) == (
        defaults.transcription_queue, defaults.analysis_queue)
    assert celery.visibility_timeout >= 600
    assert secret_ref(wk.name, "DATABASE_URL") == (SECRET, "DATABASE_URL")
    assert values["AUDIOHUB_DATA_DIR"] == "/data"
    assert values["WHISPER_MODEL"] == build_args()["WHISPER_MODEL"]
    if not wk.loads_whisper:
        assert not {k for k in env if k.startswith("WHISPER_")} - {"WHISPER_MODEL"}, wk.name
    assert_hub_reads(find("ConfigMap", CONFIG)["data"], f"ConfigMap {CONFIG}")


@per_worker
def test_k8s_worker_runs_unprivileged_with_limits_and_a_shared_data_volume(wk: Worker) -> None:
    deployment = find("Deployment", wk.name)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["enableServiceLinks"] is False
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    c = container(wk.name)
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert "ports" not in c
    for what in ("cpu", "memory"):
        assert 0 < resource(wk.name, "requests", what) <= resource(wk.name, "limits", what)
    if wk.loads_whisper:
        threads = env_value(k8s_env(wk.name)["WHISPER_CPU_THREADS"])
        assert threads is not None and int(threads) == resource(wk.name, "limits", "cpu")
    assert c["image"].split(":")[0] == kustomization()["images"][0]["name"]
    # Spooled uploads (/data/jobs) are written by the gateway and read by either half.
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts["data"] == "/data" and mounts["tmp"] == "/tmp"
    (data,) = [v for v in pod["volumes"] if v["name"] == "data"]
    gateway_pod = find("Deployment", "api-gateway")["spec"]["template"]["spec"]
    (gateway_data,) = [v for v in gateway_pod["volumes"] if v["name"] == "data"]
    assert data["persistentVolumeClaim"] == gateway_data["persistentVolumeClaim"]
    claim = find("PersistentVolumeClaim", data["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    # Warm shutdown finishes the task under way before the pod goes.
    assert pod["terminationGracePeriodSeconds"] >= 300


def test_k8s_gateway_and_workers_agree_on_the_queues() -> None:
    assert_queues_agree(k8s_values("api-gateway"), {
        wk: (container(wk.name)["command"], k8s_values(wk.name)) for wk in WORKERS})


def test_k8s_redis_is_persistent_probed_and_unprivileged() -> None:
    stateful = find("StatefulSet", "redis")
    service = find("Service", "redis")
    pod_labels = stateful["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    pod = stateful["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (c,) = pod["containers"]
    assert "--appendonly" in c["command"]
    assert c["ports"][0]["containerPort"] == service["spec"]["ports"][0]["targetPort"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["exec"]["command"] == ["redis-cli", "ping"]
    assert {m["mountPath"] for m in c["volumeMounts"]} == {"/data"}
    (claim,) = stateful["spec"]["volumeClaimTemplates"]
    assert {m["name"] for m in c["volumeMounts"]} == {claim["metadata"]["name"]}
