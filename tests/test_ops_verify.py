"""`pdk verify`'s checks at their client boundaries: the official Kubernetes client against
recorded API responses over HTTP (tests/kube_fake.py); MLDM and MLDE through stand-ins for
``pachyderm_sdk.Client`` and ``determined.experimental.Determined`` that record calls (no pachd
or MLDE master can run here). The predict and health calls against a real TorchServe are in
tests/test_dry_run.py, while the local dry run serves."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from infra.ops import verify
from tests.kube_fake import RecordedApi, listing

OUTPUTS = {
    "gateway": {"service": "gateway.envoy-gateway-system.svc.cluster.local", "tls": False},
    "mldm": {"url": "grpc://localhost:80"},
    "mlde": {"url": "http://localhost:80", "user": "admin"},
    "kserve": {"namespace": "models", "hostHeader": "MODEL.models.example.com"},
}
"""The stack outputs verify reads (names resolve to localhost here; a real run maps them to
the gateway with the stack's resolveHosts command)."""
STATE = [
    {"type": "kubernetes:helm.sh/v3:Release", "inputs": {"name": "mldm", "namespace": "default"}},
    {
        "type": "kubernetes:helm.sh/v3:Release",
        "inputs": {"name": "cert-manager", "namespace": "cert-manager"},
    },
]


def _node(name: str, ready: bool, gpus: int | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "metadata": {"name": name},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}],
        },
    }
    if gpus is not None:
        node["status"]["allocatable"] = {"nvidia.com/gpu": str(gpus), "cpu": "8"}
    return node


def _lb(name: str, namespace: str, hostname: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}},
    }


@contextmanager
def stack(api: RecordedApi, **extra: Any) -> Iterator[verify.Stack]:
    with api.serve() as client:
        yield verify.Stack(
            config=extra.pop("config", {}),
            outputs=OUTPUTS,
            state=STATE,
            kube=client,
            sleep=lambda _: None,
            **extra,
        )


def test_nodes_ready_and_the_ones_that_are_not() -> None:
    api = RecordedApi()
    api.on("GET", "/api/v1/nodes", listing("Node", [_node("a", True), _node("b", True)]))
    with stack(api) as deployed:
        assert verify.check_nodes(deployed) == "2 nodes Ready"
    api.on("GET", "/api/v1/nodes", listing("Node", [_node("a", True), _node("b", False)]))
    with stack(api) as deployed, pytest.raises(verify.CheckFailed, match="not Ready: b"):
        verify.check_nodes(deployed)


def test_gpus_allocatable_on_labelled_nodes() -> None:
    api = RecordedApi()
    api.on("GET", "/api/v1/nodes", listing("Node", [_node("g1", True, 1), _node("g2", True, 4)]))
    with stack(api) as deployed:
        assert verify.check_gpus(deployed) == "5 GPUs allocatable on 2 nodes"
    assert "labelSelector=nodegroup-role%3Dgpu-worker" in api.requests[-1]
    api.on("GET", "/api/v1/nodes", listing("Node", [_node("g1", True, 0)]))
    with stack(api) as deployed, pytest.raises(verify.CheckFailed, match=r"nvidia\.com/gpu on: g1"):
        verify.check_gpus(deployed)
    skipped = pytest.raises(verify.CheckSkipped, match="gpuEnabled is false")
    with stack(api, config={"gpuEnabled": "false"}) as deployed, skipped:
        verify.check_gpus(deployed)


def _helm(release: str, namespace: str, version: int, status: str) -> dict[str, Any]:
    labels = {"owner": "helm", "name": release, "version": str(version), "status": status}
    return {
        "metadata": {
            "name": f"sh.helm.release.v1.{release}.v{version}",
            "namespace": namespace,
            "labels": labels,
        }
    }


def test_every_release_in_state_has_its_latest_revision_deployed() -> None:
    api = RecordedApi()
    secrets = [
        _helm("mldm", "default", 1, "superseded"),
        _helm("mldm", "default", 2, "deployed"),
        _helm("cert-manager", "cert-manager", 1, "deployed"),
    ]
    api.on("GET", "/api/v1/secrets", listing("Secret", secrets))
    with stack(api) as deployed:
        assert verify.check_releases(deployed) == "2 releases deployed"
    assert "labelSelector=owner%3Dhelm" in api.requests[-1]
    secrets.append(_helm("mldm", "default", 3, "failed"))
    api.on("GET", "/api/v1/secrets", listing("Secret", secrets))
    with stack(api) as deployed, pytest.raises(verify.CheckFailed, match="default/mldm: failed"):
        verify.check_releases(deployed)
    api.on("GET", "/api/v1/secrets", listing("Secret", secrets[:2]))
    with stack(api) as deployed, pytest.raises(verify.CheckFailed, match="cert-manager: missing"):
        verify.check_releases(deployed)


def _pod(name: str, namespace: str, phase: str, ready: bool) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": str(ready)}]},
    }


def test_charts_applied_as_objects_are_not_expected_to_have_a_release() -> None:
    """A ``helm.sh/v4:Chart`` (Envoy Gateway's CRDs) keeps no release record: expecting one
    made ``pdk verify`` fail every stack (found by the rig, where the record is really absent)."""
    applied = {
        "type": "kubernetes:helm.sh/v4:Chart",
        "inputs": {"name": "gateway-crds", "namespace": "envoy-gateway-system"},
    }
    assert verify.expected_releases([*STATE, applied]) == {
        ("default", "mldm"),
        ("cert-manager", "cert-manager"),
    }


def test_pods_are_waited_for_until_ready() -> None:
    api = RecordedApi()
    pending = [
        _pod("pachd-0", "default", "Pending", False),
        _pod("job", "default", "Succeeded", False),
    ]
    ready = [
        _pod("pachd-0", "default", "Running", True),
        _pod("job", "default", "Succeeded", False),
        _pod("other", "team-x", "Pending", False),
    ]
    api.on("GET", "/api/v1/pods", listing("Pod", pending), listing("Pod", ready))
    with stack(api) as deployed:
        assert verify.check_pods(deployed) == "2 pods Ready in 2 namespaces"
    api.on("GET", "/api/v1/pods", listing("Pod", pending))
    late = pytest.raises(verify.CheckFailed, match="not Ready after 0s: default/pachd-0")
    with stack(api, timeout=0) as deployed, late:
        verify.check_pods(deployed)


class FakePfs:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def create_repo(self, repo: Any, description: str) -> None:
        self.calls.append(("create", f"{repo.project.name}/{repo.name}"))

    def delete_repo(self, repo: Any, force: bool) -> None:
        self.calls.append(("delete", f"{repo.project.name}/{repo.name}"))


def test_mldm_creates_and_deletes_a_repo_as_root_through_the_gateway() -> None:
    api = RecordedApi()
    token = base64.b64encode(b"root-token-value").decode()
    api.on(
        "GET",
        "/api/v1/namespaces/default/secrets/mldm-auth",
        {"metadata": {"name": "mldm-auth"}, "data": {"root-token": token}},
    )
    pfs = FakePfs()
    seen: list[tuple[str, str, Any]] = []

    def client(address: str, token: str, ca: bytes | None) -> Any:
        seen.append((address, token, ca))
        return SimpleNamespace(pfs=pfs)

    with stack(api, mldm_client=client) as deployed:
        detail = verify.check_mldm(deployed)
    assert seen == [("grpc://localhost:80", "root-token-value", None)]
    (created, deleted) = pfs.calls
    assert created[0] == "create" and deleted == ("delete", created[1])
    assert created[1].startswith("default/pdk-verify-") and created[1][8:] in detail


def test_names_that_do_not_resolve_say_how_to_map_them() -> None:
    api = RecordedApi()
    outputs = {**OUTPUTS, "mldm": {"url": "grpc://mldm.pdk.invalid:443"}}
    with stack(api) as deployed:
        deployed.outputs = outputs
        with pytest.raises(verify.CheckFailed, match="resolveHosts"):
            verify.check_mldm(deployed)


def _mlde_api(api: RecordedApi) -> None:
    password = base64.b64encode(b"generated-pw").decode()
    api.on(
        "GET",
        "/api/v1/namespaces/default/secrets/pipeline-secret",
        {"metadata": {"name": "pipeline-secret"}, "data": {"det_password": password}},
    )


def test_mlde_logs_in_with_the_generated_password_at_its_url() -> None:
    api = RecordedApi()
    _mlde_api(api)
    logins: list[tuple[str, str, str, Any]] = []

    def client(url: str, user: str, password: str, ca: str | None) -> Any:
        logins.append((url, user, password, ca))
        return SimpleNamespace(whoami=lambda: SimpleNamespace(username=user))

    with stack(api, mlde_client=client) as deployed:
        assert verify.check_mlde(deployed) == "logged in to http://localhost:80 as admin"
    assert logins == [("http://localhost:80", "admin", "generated-pw", None)]


def test_experiment_is_a_cpu_run_that_must_leave_a_checkpoint() -> None:
    api = RecordedApi()
    _mlde_api(api)
    created: dict[str, Any] = {}

    def experiment(checkpoints: list[Any]) -> Any:
        return SimpleNamespace(
            id=7,
            wait=lambda interval: SimpleNamespace(name="STATE_COMPLETED"),
            list_checkpoints=lambda: checkpoints,
        )

    def determined(checkpoints: list[Any]) -> Any:
        def create(config: dict[str, Any], folder: str) -> Any:
            created["config"] = config
            created["script"] = (__import__("pathlib").Path(folder) / "verify_trial.py").read_text()
            return experiment(checkpoints)

        return lambda url, user, password, ca: SimpleNamespace(create_experiment=create)

    with stack(api, mlde_client=determined([SimpleNamespace(uuid="c-1")])) as deployed:
        assert verify.check_experiment(deployed) == "experiment 7 completed, checkpoint c-1"
    assert created["config"]["resources"]["slots_per_trial"] == 0
    assert "core.checkpoint.store_path" in created["script"]
    compile(created["script"], "verify_trial.py", "exec")
    empty = pytest.raises(verify.CheckFailed, match="completed without a checkpoint")
    with stack(api, mlde_client=determined([])) as deployed, empty:
        verify.check_experiment(deployed)


def test_model_check_goes_through_the_gateway_with_the_host_header() -> None:
    api = RecordedApi()
    api.on(
        "GET",
        "/api/v1/namespaces/envoy-gateway-system/services/gateway",
        _lb("gateway", "envoy-gateway-system", "gw.example.net"),
    )
    api.on(
        "GET",
        "/apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices",
        listing(
            "InferenceService", [{"metadata": {"name": "dog-cat"}}], "serving.kserve.io/v1beta1"
        ),
    )
    calls: list[tuple[str, dict[str, str]]] = []

    def http(
        url: str, body: bytes | None, headers: dict[str, str], ca: str | None
    ) -> tuple[int, bytes]:
        calls.append((url, headers))
        return 200, b'{"status": "Healthy"}'

    with stack(api, http=http) as deployed:
        detail = verify.check_model(deployed)
    assert calls == [("http://gw.example.net:80/ping", {"Host": "dog-cat.models.example.com"})]
    assert "dog-cat answered" in detail
    api.on(
        "GET",
        "/apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices",
        listing("InferenceService", []),
    )
    with stack(api, http=http) as deployed, pytest.raises(verify.CheckSkipped, match="--flow"):
        verify.check_model(deployed)


def test_one_failing_check_does_not_hide_the_others() -> None:
    api = RecordedApi()
    api.on("GET", "/api/v1/nodes", listing("Node", [_node("a", False)]))
    api.on("GET", "/api/v1/secrets", listing("Secret", []))
    with stack(api, config={"gpuEnabled": "false"}, timeout=0) as deployed:
        results = verify.run_checks(deployed)
    by_name = {r.name: r for r in results}
    assert [r.name for r in results][:3] == [
        "nodes Ready",
        "GPUs allocatable",
        "Helm releases deployed",
    ]
    assert by_name["nodes Ready"].status == "FAIL"
    assert by_name["GPUs allocatable"].status == "skip"
    assert by_name["Helm releases deployed"].detail == (
        "cert-manager/cert-manager: missing; default/mldm: missing"
    )
    assert all(r.seconds >= 0 for r in results) and len(results) == 7
    assert [r.name for r in verify.run_checks(deployed_stub(), experiment=True, flow=True)][
        -2:
    ] == ["MLDE experiment + checkpoint", "flow: commit, train, deploy, predict"]


def deployed_stub() -> verify.Stack:
    """A stack whose cluster cannot be reached: every check reports, none raises."""
    from kubernetes import client

    unreachable = client.ApiClient(client.Configuration(host="http://127.0.0.1:9"))
    return verify.Stack(config={}, outputs=OUTPUTS, state=STATE, kube=unreachable, timeout=0)
