"""The drain before destroy and the existing-cluster leak query, against the official
``kubernetes`` client talking HTTP to recorded API responses (``tests/kube_fake.py``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from rich.console import Console

from infra.ops.drain import drain, namespaces_in_state, wait_for_volumes
from infra.ops.leaks import LeakQuery
from infra.targets.existing.leaks import find_leaks
from tests.kube_fake import RecordedApi, listing, not_found

STATE: list[dict[str, Any]] = [
    {"type": "kubernetes:core/v1:Namespace", "inputs": {"metadata": {"name": "models"}}},
    {"type": "kubernetes:helm.sh/v3:Release", "inputs": {"namespace": "default", "name": "mldm"}},
    {"type": "kubernetes:core/v1:ConfigMap", "inputs": {"metadata": {"namespace": "default"}}},
    {"type": "aws:s3/bucket:Bucket", "inputs": {"bucket": "b"}},
]


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _service(name: str, namespace: str, kind: str) -> dict[str, Any]:
    return {"metadata": _meta(name, namespace), "spec": {"type": kind}}


def _claim(name: str, namespace: str, volume: str) -> dict[str, Any]:
    return {"metadata": _meta(name, namespace), "spec": {"volumeName": volume}}


def _volume(name: str, policy: str, dynamic: bool) -> dict[str, Any]:
    annotations = {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"} if dynamic else {}
    return {
        "metadata": _meta(name, annotations=annotations),
        "spec": {"persistentVolumeReclaimPolicy": policy},
    }


def test_namespaces_come_from_the_stack_state() -> None:
    assert namespaces_in_state(STATE) == {"models", "default"}


def test_drain_deletes_what_makes_cloud_resources_and_waits_for_it() -> None:
    api = RecordedApi()
    ok = {"kind": "Status", "status": "Success"}
    api.on(
        "GET",
        "/api/v1/services",
        listing(
            "Service",
            [
                _service("mldm-proxy", "default", "LoadBalancer"),
                _service("postgres", "default", "ClusterIP"),
                _service("someone-elses", "team-x", "LoadBalancer"),
            ],
        ),
    )
    api.on("DELETE", "/api/v1/namespaces/default/services/mldm-proxy", ok)
    # The load-balancer finalizer holds the Service until the cloud LB is gone.
    api.on(
        "GET",
        "/api/v1/namespaces/default/services/mldm-proxy",
        _service("mldm-proxy", "default", "LoadBalancer"),
        _service("mldm-proxy", "default", "LoadBalancer"),
        not_found("services", "mldm-proxy"),
    )
    api.on(
        "GET",
        "/apis/gateway.networking.k8s.io/v1/gateways",
        listing("Gateway", [{"metadata": _meta("edge", "models")}], "gateway.networking.k8s.io/v1"),
    )
    api.on("DELETE", "/apis/gateway.networking.k8s.io/v1/namespaces/models/gateways/edge", ok)
    api.on(
        "GET",
        "/apis/gateway.networking.k8s.io/v1/namespaces/models/gateways/edge",
        not_found("gateways", "edge"),
    )
    api.on("GET", "/apis/networking.k8s.io/v1/ingresses", listing("Ingress", []))
    api.on(
        "GET",
        "/api/v1/persistentvolumeclaims",
        listing(
            "PersistentVolumeClaim",
            [
                _claim("etcd-storage-etcd-0", "default", "pvc-1"),
                _claim("pdk-pvc", "default", "pdk-shared-default"),
                _claim("data", "models", "pvc-2"),
            ],
        ),
    )
    for ns, name in [
        ("default", "etcd-storage-etcd-0"),
        ("default", "pdk-pvc"),
        ("models", "data"),
    ]:
        path = f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}"
        api.on("DELETE", path, ok)
        api.on("GET", path, not_found("persistentvolumeclaims", name))
    api.on(
        "GET",
        "/api/v1/persistentvolumes/pvc-1",
        _volume("pvc-1", "Delete", dynamic=True),
        _volume("pvc-1", "Delete", dynamic=True),
        not_found("persistentvolumes", "pvc-1"),
    )
    api.on("GET", "/api/v1/persistentvolumes/pdk-shared-default", _volume("x", "Retain", False))
    api.on("GET", "/api/v1/persistentvolumes/pvc-2", _volume("pvc-2", "Retain", dynamic=True))
    slept: list[float] = []
    console = Console(record=True, width=200)
    with api.serve() as client:
        result = drain(client, {"default", "models"}, console, poll=5, sleep=slept.append)
        # Claims are only asked to go before destroy (a mounted claim waits for its pod):
        # nothing has read them or their volumes' state yet beyond classifying the volumes.
        assert not any(
            "GET /api/v1/namespaces/default/persistentvolumeclaims" in r for r in api.requests
        )
        assert api.requests.count("GET /api/v1/persistentvolumes/pvc-1") == 1
        assert slept == [5, 5]  # the LB Service's finalizer, twice
        assert wait_for_volumes(result, console, poll=7, sleep=slept.append) == []
    assert result.deleted == [
        "Service default/mldm-proxy",
        "Gateway models/edge",
        "PersistentVolumeClaim default/etcd-storage-etcd-0",
        "PersistentVolumeClaim default/pdk-pvc",
        "PersistentVolumeClaim models/data",
    ]
    assert result.pending == []
    assert result.retained == ["PersistentVolume pvc-2"]
    assert slept == [5, 5, 7]  # then the dynamic volume, until its disk is gone
    deletes = [r for r in api.requests if r.startswith("DELETE")]
    assert not any("team-x" in r or "postgres" in r for r in deletes)
    # The wait asked for the LB Service and the dynamic volume until both answered 404.
    assert api.requests.count("GET /api/v1/namespaces/default/services/mldm-proxy") == 3
    assert api.requests.count("GET /api/v1/persistentvolumes/pvc-1") == 3  # 1 to classify


def test_drain_gives_up_after_the_timeout_and_says_what_is_left() -> None:
    api = RecordedApi()
    api.on(
        "GET", "/api/v1/services", listing("Service", [_service("lb", "default", "LoadBalancer")])
    )
    api.on("DELETE", "/api/v1/namespaces/default/services/lb", {"kind": "Status"})
    api.on(
        "GET", "/api/v1/namespaces/default/services/lb", _service("lb", "default", "LoadBalancer")
    )
    api.on("GET", "/apis/gateway.networking.k8s.io/v1/gateways", not_found("resource", "gateways"))
    api.on("GET", "/apis/networking.k8s.io/v1/ingresses", listing("Ingress", []))
    api.on("GET", "/api/v1/persistentvolumeclaims", listing("PersistentVolumeClaim", []))
    ticks = iter(range(0, 10_000, 100))
    with api.serve() as client:
        result = drain(
            client,
            {"default"},
            Console(record=True),
            timeout=250,
            sleep=lambda _: None,
            clock=lambda: float(next(ticks)),
        )
    assert result.pending == ["Service default/lb"]


def test_existing_cluster_leaks_by_label_and_by_namespace() -> None:
    api = RecordedApi()
    selector = "pdk-deployer/deployment-id=ci-local-1"
    left_pv = {"metadata": _meta("pdk-shared-default")}
    empty = [
        "/api/v1/persistentvolumeclaims",
        "/api/v1/services",
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/statefulsets",
        "/api/v1/secrets",
        "/api/v1/configmaps",
    ]
    for path in empty:
        api.on("GET", path, listing("List", []))
    api.on("GET", "/api/v1/persistentvolumes", listing("PersistentVolume", [left_pv]))
    api.on(
        "GET",
        "/api/v1/namespaces",
        listing("Namespace", []),  # the label query: none labelled
        listing("Namespace", [{"metadata": _meta("models")}, {"metadata": _meta("default")}]),
    )
    with api.serve() as client:
        report = find_leaks(LeakQuery("ci-local-1", {}, STATE, kube=client))
    assert [(leak.kind, leak.id, leak.found_by) for leak in report.leaks] == [
        ("PersistentVolume", "pdk-shared-default", f"label {selector}"),
        ("Namespace", "models", "stack state"),
    ]
    assert not report.clean
    assert f"GET /api/v1/persistentvolumes?labelSelector={quote(selector, safe='')}" in api.requests


def test_existing_cluster_without_a_client_is_not_clean() -> None:
    report = find_leaks(LeakQuery("ci-local-1", {}, STATE, kube=None))
    assert not report.clean and report.errors
