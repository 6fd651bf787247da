"""The job queue in docker-compose.yml and deploy/k8s: Redis, and `audiohub worker` told where the
broker, the database and the shared data directory are, with nothing the hub does not read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import typer
from typer.testing import CliRunner

from audiohub.jobs.celery_backend import CelerySettings
from audiohub.jobs.worker_cli import worker
from tests.deploy.deployfiles import assert_hub_reads, build_args
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

CELERY_VARS = {"CELERY_BROKER_URL", "CELERY_QUEUE", "CELERY_VISIBILITY_TIMEOUT"}


def celery_from(env: dict[str, Any]) -> CelerySettings:
    """What the worker's settings make of these variables."""
    return CelerySettings(**{k: str(v) for k, v in env.items() if k in CELERY_VARS})


def test_worker_command_takes_the_options_the_deployments_may_pass() -> None:
    app = typer.Typer()
    app.command()(worker)
    app.command("other")(lambda: None)  # a group, so the command is addressed by name
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0, result.output
    assert "--queues" in result.output and "--concurrency" in result.output


# --- docker-compose.yml ---------------------------------------------------------------------

def test_compose_worker_runs_the_queue_against_the_redis_service() -> None:
    worker_svc = compose_service("worker")
    assert worker_svc["command"] == ["audiohub", "worker"]
    env = compose_env("worker")
    assert_hub_reads(env, "docker-compose.yml worker")
    celery = celery_from(env)
    broker = urlsplit(celery.broker_url or "")
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    assert celery.visibility_timeout >= 600  # above any one job's run time
    assert "ports" not in worker_svc
    assert {"redis", "postgres"} <= set(worker_svc["depends_on"])
    assert {d["condition"] for d in worker_svc["depends_on"].values()} == {"service_healthy"}


def test_compose_worker_shares_the_database_data_dir_and_image() -> None:
    env = compose_env("worker")
    assert env["DATABASE_URL"] == compose_env("persistence-service")["DATABASE_URL"]
    # Recordings the worker stores go where persistence-service keeps them.
    assert env["AUDIOHUB_DATA_DIR"] == "/data"
    assert "recordings:/data" in compose_service("worker")["volumes"]
    stage = compose_service("transcription-service")
    assert compose_service("worker")["build"] == stage["build"]
    assert compose_service("worker")["image"] == stage["image"]
    assert env["WHISPER_MODEL"] == compose_env("transcription-service")["WHISPER_MODEL"]


def test_compose_redis_is_persistent_checked_and_not_published() -> None:
    redis = compose_service("redis")
    assert "ports" not in redis
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert redis["healthcheck"]["interval"] == "10s"
    assert "--appendonly" in redis["command"]
    assert "redisdata:/data" in redis["volumes"]
    assert "redisdata" in compose()["volumes"]


# --- deploy/k8s -----------------------------------------------------------------------------

def test_k8s_lists_the_queue_manifests() -> None:
    assert {"redis.yaml", "worker.yaml"} <= set(kustomization()["resources"])


def test_k8s_worker_runs_the_queue_against_the_redis_service() -> None:
    c = container("worker")
    assert c["command"] == ["audiohub", "worker"]
    env = k8s_env("worker")
    assert_hub_reads(env, "deploy/k8s worker")
    values = {name: env_value(entry) for name, entry in env.items()}
    celery = celery_from({k: v for k, v in values.items() if v is not None})
    broker = urlsplit(celery.broker_url or "")
    service = find("Service", "redis")
    assert broker.hostname == service["metadata"]["name"]
    assert broker.port == service["spec"]["ports"][0]["port"] == 6379
    assert celery.queue == CelerySettings().queue
    assert celery.visibility_timeout >= 600
    assert secret_ref("worker", "DATABASE_URL") == (SECRET, "DATABASE_URL")
    assert values["WHISPER_MODEL"] == build_args()["WHISPER_MODEL"]
    assert values["AUDIOHUB_DATA_DIR"] == "/data"
    assert_hub_reads(find("ConfigMap", CONFIG)["data"], f"ConfigMap {CONFIG}")


def test_k8s_worker_runs_unprivileged_with_limits_and_a_shared_data_volume() -> None:
    deployment = find("Deployment", "worker")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["enableServiceLinks"] is False
    c = container("worker")
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for what in ("cpu", "memory"):
        assert 0 < resource("worker", "requests", what) <= resource("worker", "limits", what)
    threads = env_value(k8s_env("worker")["WHISPER_CPU_THREADS"])
    assert threads is not None and int(threads) == resource("worker", "limits", "cpu")
    assert c["image"].split(":")[0] == kustomization()["images"][0]["name"]
    # Spooled uploads (/data/jobs) are written by the gateway and read by any worker.
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts["data"] == "/data" and mounts["tmp"] == "/tmp"
    (data,) = [v for v in pod["volumes"] if v["name"] == "data"]
    claim = find("PersistentVolumeClaim", data["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    # Warm shutdown finishes the job under way before the pod goes.
    assert pod["terminationGracePeriodSeconds"] >= 300


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
