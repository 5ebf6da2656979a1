"""Hardening of what the stacks deploy: requests and limits everywhere we set them, no service
account token where the API is not used, and NetworkPolicies that admit exactly the intended
clients to Postgres and MinIO.

The NetworkPolicy evaluator below implements the Kubernetes semantics the policies rely on
(a pod selected by any policy with Ingress accepts only what some rule admits; a peer with a
namespace and a pod selector matches pods matching both) for the selector forms we use:
``matchLabels`` only.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.contract import DATABASE_CLIENTS, OBJECT_STORE_CLIENTS
from infra.sizing import resources, workloads
from infra.targets.existing.minio import API_PORT, MINIO_LABELS
from infra.targets.existing.postgres import PORT as PG_PORT
from infra.targets.existing.postgres import POSTGRES_LABELS
from tests.conftest import IN_CLUSTER_STACKS, STACKS, k8s_objects, releases

POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
API_USERS = {"models-web-app"}
"""Our workloads that call the Kubernetes API (the models web app lists InferenceServices)."""


def _pod_specs(snapshot: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (resource["name"], manifest["spec"]["template"])
        for resource, manifest in k8s_objects(snapshot)
        if manifest["kind"] in POD_KINDS
    ]


def _resource_blocks(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every ``resources`` block in chart values that sets requests or limits."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if (
                key == "resources"
                and isinstance(item, dict)
                and ({"requests", "limits"} & set(item))
            ):
                found.append((f"{path}.{key}", item))
            else:
                found.extend(_resource_blocks(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_resource_blocks(item, f"{path}[{index}]"))
    return found


def _complete(block: dict[str, Any]) -> bool:
    return all(set(block.get(kind) or {}) >= {"cpu", "memory"} for kind in ("requests", "limits"))


# --- requests and limits ---------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_container_we_declare_has_requests_and_limits(
    snapshots: dict[str, Any], stack: str
) -> None:
    specs = _pod_specs(snapshots[stack])
    # In-cluster stacks run Postgres, MinIO and their Jobs; a cloud stack may declare none.
    assert specs or stack not in IN_CLUSTER_STACKS
    for name, template in specs:
        for container in template["spec"]["containers"]:
            assert _complete(container.get("resources", {})), (name, container["name"])


CHART_WORKLOADS = {
    "gateway-release": [".deployment.envoyGateway.resources", ".certgen.job.resources"],
    "cert-manager-release": [
        ".resources",
        ".webhook.resources",
        ".cainjector.resources",
        ".startupapicheck.resources",
    ],
}
"""Chart values that size each chart's workloads (keys checked by rendering each chart at its
pinned version with helm 3.17.3; see the issue 12 note)."""
CHART_WORKLOADS["mldm-release"] = [
    ".pachd.resources",
    ".pachw.resources",
    ".etcd.resources",
    ".pgbouncer.resources",
    ".console.resources",
    ".proxy.resources",
]
SERVERLESS_CHART_WORKLOADS = {
    "istio-istiod": [".pilot.resources"],
    "istio-gateway": [".resources"],
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_workload_we_configure_has_requests_and_limits(
    snapshots: dict[str, Any], stack: str
) -> None:
    values = {name: inputs["values"] for name, inputs in releases(snapshots[stack]).items()}
    expected = dict(CHART_WORKLOADS)
    if "istio-istiod" in values:
        expected.update(SERVERLESS_CHART_WORKLOADS)
    for release, paths in expected.items():
        blocks = dict(_resource_blocks(values[release]))
        for path in paths:
            assert path in blocks and _complete(blocks[path]), (release, path)
    # The MLDE master has keys of its own (templates/determined/master-deployment.yaml).
    determined = values["mldm-release"]["determined"]
    for key in ("masterCpuRequest", "masterMemRequest", "masterCpuLimit", "masterMemLimit"):
        assert determined[key], key
    # And any resources block anywhere in our values is complete.
    for release, release_values in values.items():
        for path, block in _resource_blocks(release_values):
            assert _complete(block), (release, path)


def test_the_small_size_fits_a_kind_node_with_room_for_the_flow(
    snapshots: dict[str, Any],
) -> None:
    """Sum of the requests the local stack sets (our pods and chart values), plus KServe's
    controller, which sizes itself (100m/300Mi for each of its two containers at v0.17.1).
    Half of a 4-CPU/8-GiB node stays free for the flow's pipeline workers and MLDE trials."""

    def cpu(text: str) -> float:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)

    def memory(text: str) -> float:
        units = {"Mi": 1, "Gi": 1024}
        return float(text[:-2]) * units[text[-2:]]

    snapshot = snapshots["local"]
    blocks = [
        container["resources"]
        for _, template in _pod_specs(snapshot)
        for container in template["spec"]["containers"]
    ]
    for inputs in releases(snapshot).values():
        blocks.extend(block for _, block in _resource_blocks(inputs["values"]))
    gateway_proxy = resources("envoy-proxy", "small").values()
    blocks.append(gateway_proxy)
    master = releases(snapshot)["mldm-release"]["values"]["determined"]
    blocks.append(
        {"requests": {"cpu": master["masterCpuRequest"], "memory": master["masterMemRequest"]}}
    )
    total_cpu = sum(cpu(b["requests"]["cpu"]) for b in blocks) + 0.2
    total_memory = sum(memory(b["requests"]["memory"]) for b in blocks) + 600
    assert total_cpu <= 2.0, total_cpu
    assert total_memory <= 4096, total_memory
    assert snapshot["resources"]  # the plan ran


def test_every_sized_workload_has_both_sizes_and_limits_above_requests() -> None:
    for workload in workloads():
        small, standard = resources(workload, "small"), resources(workload, "standard")
        for size in (small, standard):
            block = size.values()
            assert _complete(block), workload


# --- service account tokens ------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_no_service_account_token_where_the_api_is_not_used(
    snapshots: dict[str, Any], stack: str
) -> None:
    for name, template in _pod_specs(snapshots[stack]):
        if any(name.startswith(user) for user in API_USERS):
            continue
        assert template["spec"].get("automountServiceAccountToken") is False, name


# --- NetworkPolicies -------------------------------------------------------------------------


def _matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    assert set(selector) <= {"matchLabels"}, selector  # the only form we use
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _admitted(
    policies: list[dict[str, Any]],
    server: tuple[str, dict[str, str]],
    client: tuple[str, dict[str, str]],
    port: int,
) -> bool:
    """Whether ``client`` (namespace, pod labels) may connect to ``server`` on ``port``."""
    server_ns, server_labels = server
    client_ns, client_labels = client
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == server_ns
        and "Ingress" in p["spec"]["policyTypes"]
        and _matches(p["spec"]["podSelector"], server_labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            for peer in rule.get("from", []):
                namespace_selector = peer.get("namespaceSelector")
                in_namespace = (
                    _matches(namespace_selector, {"kubernetes.io/metadata.name": client_ns})
                    if namespace_selector is not None
                    else client_ns == server_ns
                )
                if in_namespace and _matches(peer.get("podSelector"), client_labels):
                    return True
    return False


POSTGRES = ("pdk-data", dict(POSTGRES_LABELS))
MINIO = ("pdk-data", dict(MINIO_LABELS))
CLIENTS: list[tuple[str, tuple[str, dict[str, str]], bool, bool]] = [
    # (who, (namespace, pod labels), may reach Postgres, may reach MinIO)
    ("pachd", ("default", {"app": "pachd", "suite": "pachyderm"}), True, True),
    ("pachw", ("default", {"app": "pachw", "suite": "pachyderm"}), True, True),
    ("pg-bouncer", ("default", {"app": "pg-bouncer", "suite": "pachyderm"}), True, True),
    ("MLDE master", ("default", {"app": "determined-master-pachyderm"}), True, True),
    ("MLDM console", ("default", {"app": "console", "suite": "pachyderm"}), False, True),
    ("MLDM pipeline worker", ("default", {"app": "pipeline", "component": "worker"}), False, True),
    ("MLDE trial, CPU pool", ("default", {"determined": "task"}), False, True),
    ("MLDE trial, GPU pool", ("gpu-pool", {"determined": "task"}), False, True),
    ("KServe model", ("models", {"serving.kserve.io/inferenceservice": "m"}), False, True),
    (
        "Postgres setup Job",
        (
            "pdk-data",
            {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "setup"},
        ),
        True,
        False,
    ),
    (
        "MinIO setup Job",
        ("pdk-data", {"app.kubernetes.io/name": "minio", "app.kubernetes.io/component": "setup"}),
        False,
        True,
    ),
    ("MinIO server", MINIO, False, False),
    (
        "a pod labelled like pachd elsewhere",
        ("tenant", {"app": "pachd", "suite": "pachyderm"}),
        False,
        False,
    ),
    ("the gateway", ("envoy-gateway-system", {"app.kubernetes.io/name": "envoy"}), False, False),
    ("kube-system", ("kube-system", {"k8s-app": "kube-dns"}), False, False),
    ("KServe controller", ("kserve", {"control-plane": "kserve-controller-manager"}), False, False),
]


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
@pytest.mark.parametrize(
    ("who", "client", "postgres", "minio"), CLIENTS, ids=[c[0] for c in CLIENTS]
)
def test_network_policies_admit_exactly_the_intended_clients(
    snapshots: dict[str, Any],
    stack: str,
    who: str,
    client: tuple[str, dict[str, str]],
    postgres: bool,
    minio: bool,
) -> None:
    policies = [m for _, m in k8s_objects(snapshots[stack]) if m["kind"] == "NetworkPolicy"]
    assert _admitted(policies, POSTGRES, client, PG_PORT) is postgres, who
    assert _admitted(policies, MINIO, client, API_PORT) is minio, who
    # Nothing is admitted on another port.
    assert not _admitted(policies, POSTGRES, client, API_PORT)
    assert not _admitted(policies, MINIO, client, 9001)


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_policies_select_the_real_pods(snapshots: dict[str, Any], stack: str) -> None:
    """The labels the policies use are the ones the servers' and setup Jobs' pods carry, and
    every pod in the data namespace is covered by the default deny."""
    policies = [m for _, m in k8s_objects(snapshots[stack]) if m["kind"] == "NetworkPolicy"]
    (deny,) = [p for p in policies if p["metadata"]["name"] == "default-deny-ingress"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    pods = [
        (manifest["kind"], template["metadata"]["labels"])
        for resource, manifest in k8s_objects(snapshots[stack])
        if manifest["kind"] in POD_KINDS and manifest["metadata"].get("namespace") == "pdk-data"
        for template in [manifest["spec"]["template"]]
    ]
    servers = [labels for kind, labels in pods if kind == "StatefulSet"]
    assert any(_matches({"matchLabels": dict(POSTGRES_LABELS)}, labels) for labels in servers)
    assert any(_matches({"matchLabels": dict(MINIO_LABELS)}, labels) for labels in servers)
    setup = [labels for kind, labels in pods if kind == "Job"]
    for name, server in (("postgres-clients", POSTGRES), ("minio-clients", MINIO)):
        assert any(
            _admitted(
                policies, server, ("pdk-data", labels), PG_PORT if "postgres" in name else API_PORT
            )
            for labels in setup
        ), name


def test_the_client_tables_are_what_the_policies_carry() -> None:
    assert {p.namespace for p in OBJECT_STORE_CLIENTS} == {"default", "gpu-pool", "models"}
    assert all(p.labels is None for p in OBJECT_STORE_CLIENTS)
    assert all(p.namespace == "default" and p.labels for p in DATABASE_CLIENTS)
