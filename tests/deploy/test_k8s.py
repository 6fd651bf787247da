"""deploy/k8s runs the five services, probed, unprivileged, told only what the hub reads."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.deploy.deployfiles import (
    K8S,
    NEEDS_DATABASE,
    SERVICES,
    STAGE_SERVICES,
    Svc,
    assert_hub_reads,
    build_args,
    other_port_vars,
    per_service,
)

SECRET = "audiohub-secrets"
CONFIG = "audiohub-config"


@cache
def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return data


@cache
def manifests() -> tuple[dict[str, Any], ...]:
    docs: list[dict[str, Any]] = []
    for name in kustomization()["resources"]:
        docs.extend(d for d in yaml.safe_load_all((K8S / name).read_text()) if d)
    return tuple(docs)


def find(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def container(name: str) -> dict[str, Any]:
    (only,) = find("Deployment", name)["spec"]["template"]["spec"]["containers"]
    c: dict[str, Any] = only
    return c


def env_value(entry: dict[str, Any]) -> str | None:
    """An env entry's value, read through its ConfigMap; None when it comes from a Secret."""
    if "value" in entry:
        return str(entry["value"])
    source = entry["valueFrom"]
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return str(find("ConfigMap", ref["name"])["data"][ref["key"]])
    assert "secretKeyRef" in source
    return None


def k8s_env(name: str) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(name)["env"]}


def secret_ref(name: str, var: str) -> tuple[str, str]:
    ref = k8s_env(name)[var]["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def quantity(value: str | int) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    text = str(value)
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def resource(name: str, kind: str, what: str) -> float:
    return quantity(container(name)["resources"][kind][what])


def test_kustomization_lists_every_manifest() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    assert kustomization()["namespace"] == find("Namespace", "audio-hub")["metadata"]["name"]
    for doc in manifests():
        assert {"apiVersion", "kind", "metadata"} <= set(doc)


@per_service
def test_k8s_deployment_and_service_agree_on_the_port(svc: Svc) -> None:
    c = container(svc.name)
    assert c["command"] == ["audiohub", "serve", svc.stage]
    (port,) = c["ports"]
    assert port["containerPort"] == svc.port
    assert env_value(k8s_env(svc.name)[svc.port_var]) == str(svc.port)
    assert not other_port_vars(svc) & set(k8s_env(svc.name))
    service = find("Service", svc.name)
    (sport,) = service["spec"]["ports"]
    assert sport["port"] == svc.port
    assert sport["targetPort"] in (svc.port, port["name"])
    deployment = find("Deployment", svc.name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


@per_service
def test_k8s_probes_hit_live_and_ready_on_the_service_port(svc: Svc) -> None:
    """Liveness (and start) on /health/live, which checks nothing a restart would not cure;
    readiness on /health/ready, which takes the pod out of the Service while a part is down."""
    c = container(svc.name)
    paths = {"startupProbe": "/health/live", "livenessProbe": "/health/live",
             "readinessProbe": "/health/ready"}
    for probe, path in paths.items():
        assert c[probe]["httpGet"] == {"path": path, "port": svc.port}, probe


@per_service
def test_k8s_pods_run_unprivileged_with_limits(svc: Svc) -> None:
    pod = find("Deployment", svc.name)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    # Service links would set API_GATEWAY_PORT=tcp://..., PROMPT_SERVICE_PORT=tcp://... .
    assert pod["enableServiceLinks"] is False
    c = container(svc.name)
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for what in ("cpu", "memory"):
        assert 0 < resource(svc.name, "requests", what) <= resource(svc.name, "limits", what)
    # A read-only root needs writable /data (uploads are staged in <data dir>/tmp) and /tmp.
    if c["securityContext"].get("readOnlyRootFilesystem"):
        assert {m["mountPath"] for m in c["volumeMounts"]} >= {"/data", "/tmp"}


def test_k8s_transcription_gets_the_most_resources() -> None:
    others = [s.name for s in SERVICES if s.name != "transcription-service"]
    for kind, what in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
        top = resource("transcription-service", kind, what)
        assert all(top > resource(o, kind, what) for o in others), (kind, what)
    cpus = env_value(k8s_env("transcription-service")["WHISPER_CPU_THREADS"])
    assert cpus is not None
    assert int(cpus) == resource("transcription-service", "limits", "cpu")


def test_k8s_persistence_keeps_recordings_on_a_volume_claim() -> None:
    deployment = find("Deployment", "persistence-service")
    pod = deployment["spec"]["template"]["spec"]
    (data,) = [v for v in pod["volumes"] if v["name"] == "data"]
    claim = find("PersistentVolumeClaim", data["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    mounts = {m["name"]: m["mountPath"] for m in container("persistence-service")["volumeMounts"]}
    assert mounts["data"] == "/data"
    assert env_value(k8s_env("persistence-service")["AUDIOHUB_DATA_DIR"]) == "/data"
    # A ReadWriteOnce volume: one pod, replaced rather than rolled.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


def test_k8s_secret_exists_and_every_reference_resolves() -> None:
    secret = find("Secret", SECRET)
    assert {"SERVICE_TOKEN", "DATABASE_URL"} <= set(secret["stringData"])
    # Each key becomes a variable in some pod, so it too must be one the hub reads.
    assert_hub_reads(secret["stringData"], f"Secret {SECRET}")
    for doc in manifests():
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for c in doc["spec"]["template"]["spec"]["containers"]:
            for entry in c.get("env", []):
                source = entry.get("valueFrom", {})
                if "secretKeyRef" in source:
                    ref = source["secretKeyRef"]
                    keys = set(find("Secret", ref["name"])["stringData"])
                    assert ref.get("optional") or ref["key"] in keys, entry
                elif "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["key"] in find("ConfigMap", ref["name"])["data"], entry
    for svc in SERVICES:
        assert secret_ref(svc.name, "SERVICE_TOKEN") == (SECRET, "SERVICE_TOKEN")
    have = {s.name for s in SERVICES if "DATABASE_URL" in k8s_env(s.name)}
    assert have == NEEDS_DATABASE
    for name in NEEDS_DATABASE:
        assert secret_ref(name, "DATABASE_URL") == (SECRET, "DATABASE_URL")


def test_k8s_configmap_urls_name_the_services_and_their_ports() -> None:
    data = find("ConfigMap", CONFIG)["data"]
    for svc in SERVICES:
        assert data[svc.port_var] == str(svc.port)
    gateway = k8s_env("api-gateway")
    for svc in STAGE_SERVICES:
        assert data[svc.url_var] == svc.url
        assert find("Service", svc.name)["spec"]["ports"][0]["port"] == svc.port
        assert env_value(gateway[svc.url_var]) == data[svc.url_var]
    assert env_value(k8s_env("transcription-service")["PROMPT_SERVICE_URL"]) == data[
        "PROMPT_SERVICE_URL"]


def test_k8s_whisper_model_is_the_one_baked_into_the_image() -> None:
    data = find("ConfigMap", CONFIG)["data"]
    (image,) = kustomization()["images"]
    assert data["WHISPER_MODEL"] == build_args()["WHISPER_MODEL"] == image["newTag"]
    assert container("transcription-service")["image"].split(":")[0] == image["name"]


def test_k8s_database_url_points_at_the_postgres_service() -> None:
    url = find("Secret", SECRET)["stringData"]["DATABASE_URL"]
    service = find("Service", "postgres")
    assert f"@{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/" in url
    stateful = find("StatefulSet", "postgres")
    assert stateful["spec"]["serviceName"] == "postgres"
    pod = stateful["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert url.startswith(f"postgresql://{env['POSTGRES_USER']['value']}:")
    assert url.endswith(f"/{env['POSTGRES_DB']['value']}")


@per_service
def test_k8s_sets_only_variables_the_hub_reads(svc: Svc) -> None:
    assert_hub_reads(k8s_env(svc.name), f"deploy/k8s {svc.name}")


def test_k8s_configmap_holds_only_variables_the_hub_reads() -> None:
    assert_hub_reads(find("ConfigMap", CONFIG)["data"], f"ConfigMap {CONFIG}")


@per_service
def test_k8s_turns_sign_in_on(svc: Svc) -> None:
    # Explicitly, through the ConfigMap: every pod binds 0.0.0.0.
    assert env_value(k8s_env(svc.name)["AUTH"]) == "on"


def test_k8s_gateway_answers_only_to_the_services_names() -> None:
    hosts = env_value(k8s_env("api-gateway")["ALLOWED_HOSTS"])
    assert hosts is not None
    names = [h.strip() for h in hosts.split(",")]
    assert "*" not in hosts and not [n for n in names if n.startswith("*")]
    service = find("Service", "api-gateway")["metadata"]["name"]
    namespace = kustomization()["namespace"]
    assert {service, f"{service}.{namespace}.svc.cluster.local"} <= set(names)
    # Secure cookie and HSTS are the operator's to turn on once TLS is in front.
    assert env_value(k8s_env("api-gateway")["AUTH_COOKIE_SECURE"]) in ("true", "false")


def test_k8s_gateway_replicas_share_their_rate_limit_counters() -> None:
    deployment = find("Deployment", "api-gateway")
    assert deployment["spec"]["replicas"] > 1
    storage = env_value(k8s_env("api-gateway")["RATE_LIMIT_STORAGE"]) or ""
    url = urlsplit(storage)
    redis = find("Service", "redis")
    assert (url.scheme, url.hostname, url.port) == (
        "redis", redis["metadata"]["name"], redis["spec"]["ports"][0]["port"])
    # Not the job queue's database (CELERY_BROKER_URL's).
    broker = urlsplit(env_value(k8s_env("api-gateway")["CELERY_BROKER_URL"]) or "")
    assert url.path != broker.path


def test_k8s_secrets_come_only_from_the_secret() -> None:
    secret_vars = {"SERVICE_TOKEN", "DATABASE_URL", "GEMINI_API_KEY", "OPENAI_API_KEY"}
    assert not secret_vars & set(find("ConfigMap", CONFIG)["data"])
    for doc in manifests():
        if doc["kind"] != "Deployment":
            continue
        for c in doc["spec"]["template"]["spec"]["containers"]:
            for entry in c.get("env", []):
                if entry["name"] in secret_vars:
                    assert "secretKeyRef" in entry.get("valueFrom", {}), (c["name"], entry)
    # The analysers' keys: from the Secret when it has them, optional otherwise.
    for name in ("transcription-service", "extraction-service", "transcription-worker",
                 "analysis-worker"):
        for var in ("GEMINI_API_KEY", "OPENAI_API_KEY"):
            ref = k8s_env(name)[var]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"], ref["optional"]) == (SECRET, var, True), name
