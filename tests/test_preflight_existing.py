"""`pdk preflight` for an existing cluster, against a Kubernetes API served on loopback.

The official ``kubernetes`` client loads a real kubeconfig file and talks HTTP to a small server
in this process that answers with Kubernetes API documents (NodeList, StorageClassList, Job,
version). Those documents are written by hand in the API's shape, not captured from a live
cluster (there is none here): the tests prove what the checks ask and how they read the answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.ops.preflight import Check, MissingCredentials, PreflightContext, exit_code
from infra.targets.existing import ops

VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.4",
    "gitCommit": "0" * 40,
    "gitTreeState": "clean",
    "buildDate": "2026-08-12T00:00:00Z",
    "goVersion": "go1.24.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def node(
    name: str, labels: dict[str, str], taints: list[dict[str, str]], gpus: int
) -> dict[str, Any]:
    allocatable = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    if gpus:
        allocatable["nvidia.com/gpu"] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}},
        "spec": {"taints": taints} if taints else {},
        "status": {"allocatable": allocatable, "capacity": allocatable},
    }


GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
CPU = node("cpu-1", {"nodegroup-role": "cpu-worker"}, [], 0)
GPU = node("gpu-1", {"nodegroup-role": "gpu-worker"}, [GPU_TAINT], 4)


def storage_class(name: str, default: bool) -> dict[str, Any]:
    annotations = {ops.DEFAULT_CLASS_ANNOTATION: "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": "rancher.io/local-path",
    }


class FakeApi:
    """State the handler serves; tests change it per case."""

    def __init__(self) -> None:
        self.nodes = [CPU, GPU]
        self.classes = [storage_class("local-path", True)]
        self.job_status: dict[str, Any] = {"succeeded": 1}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            api.requests.append(("GET", self.path))
            path = self.path.split("?")[0].rstrip("/")
            if path == "/version":
                self._send(VERSION)
            elif path == "/api/v1/nodes":
                self._send({"apiVersion": "v1", "kind": "NodeList", "items": api.nodes})
            elif path == "/apis/storage.k8s.io/v1/storageclasses":
                self._send(
                    {
                        "apiVersion": "storage.k8s.io/v1",
                        "kind": "StorageClassList",
                        "items": api.classes,
                    }
                )
            elif path.startswith("/apis/batch/v1/namespaces/default/jobs/"):
                job = api.jobs[path.rsplit("/", 1)[1]]
                self._send({**job, "status": api.job_status})
            else:
                self._send({"kind": "Status", "code": 404}, 404)

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            job = json.loads(self.rfile.read(length))
            api.requests.append(("POST", self.path))
            api.jobs[job["metadata"]["name"]] = job
            self._send(job, 201)

        def do_DELETE(self) -> None:
            api.requests.append(("DELETE", self.path))
            self._send({"kind": "Status", "status": "Success"})

    return Handler


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeApi, Path]]:
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "fake",
                        "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                    }
                ],
                "users": [{"name": "fake", "user": {"token": "test-token"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
                "current-context": "fake",
            }
        )
    )
    yield api, kubeconfig
    server.shutdown()
    server.server_close()


def run(snapshot: dict[str, Any], kubeconfig: Path, nfs_job: bool = False) -> dict[str, Check]:
    context = PreflightContext(
        "onprem",
        snapshot["resources"],
        kubeconfig=str(kubeconfig),
        nfs_job=nfs_job,
        nfs_timeout=5,
    )
    return {check.name: check for check in ops.preflight(context)}


@pytest.fixture
def onprem(snapshots: dict[str, Any]) -> dict[str, Any]:
    return snapshots["onprem"]


def test_what_the_checks_read_comes_from_the_plan(onprem: dict[str, Any]) -> None:
    spec = ops.gpu_pod_spec(onprem["resources"])
    assert spec is not None and spec["nodeSelector"] == {"nodegroup-role": "gpu-worker"}
    assert ops.storage_classes(onprem["resources"]) == {None}
    assert ops.nfs_exports(onprem["resources"]) == {("nfs.pdk.internal", "/exports/pdk")}


def test_a_ready_cluster_passes(onprem: dict[str, Any], cluster: tuple[FakeApi, Path]) -> None:
    api, kubeconfig = cluster
    results = run(onprem, kubeconfig)
    assert results["cluster reachable"].detail == "Kubernetes v1.33.4"
    assert results["GPU nodes"].status == "pass"
    assert results["allocatable GPUs"].detail.startswith("4 nvidia.com/gpu")
    assert results["default StorageClass"].detail == "local-path"
    # Without --nfs-job the export is not touched, and says so.
    nfs = results["NFS nfs.pdk.internal:/exports/pdk"]
    assert nfs.status == "warn" and "--nfs-job" in nfs.fix
    assert exit_code(list(results.values())) == 0
    assert not any(method != "GET" for method, _ in api.requests)  # read-only


def test_no_gpu_labelled_node_fails(onprem: dict[str, Any], cluster: tuple[FakeApi, Path]) -> None:
    api, kubeconfig = cluster
    api.nodes = [CPU]
    results = run(onprem, kubeconfig)
    assert results["GPU nodes"].status == "fail"
    assert "nodegroup-role=gpu-worker" in results["GPU nodes"].fix
    assert exit_code(list(results.values())) == 1


def test_untainted_gpu_node_and_no_gpus_warn(
    onprem: dict[str, Any], cluster: tuple[FakeApi, Path]
) -> None:
    api, kubeconfig = cluster
    api.nodes = [CPU, node("gpu-2", {"nodegroup-role": "gpu-worker"}, [], 0)]
    results = run(onprem, kubeconfig)
    assert results["GPU taint"].status == "warn" and "gpu-2" in results["GPU taint"].detail
    assert results["allocatable GPUs"].status == "warn"


def test_no_default_storage_class_fails(
    onprem: dict[str, Any], cluster: tuple[FakeApi, Path]
) -> None:
    api, kubeconfig = cluster
    api.classes = [storage_class("slow", False)]
    results = run(onprem, kubeconfig)
    assert results["default StorageClass"].status == "fail"


def test_configured_storage_class_must_exist(cluster: tuple[FakeApi, Path]) -> None:
    _, kubeconfig = cluster
    resources = [
        {
            "type": "kubernetes:apps/v1:StatefulSet",
            "name": "pg",
            "inputs": {"spec": {"volumeClaimTemplates": [{"spec": {"storageClassName": "fast"}}]}},
        }
    ]
    results = run({"resources": resources}, kubeconfig)
    assert results["StorageClass fast"].status == "fail"
    assert "local-path" in results["StorageClass fast"].detail


def test_nfs_job_mounts_the_export_and_is_deleted(
    onprem: dict[str, Any], cluster: tuple[FakeApi, Path]
) -> None:
    api, kubeconfig = cluster
    results = run(onprem, kubeconfig, nfs_job=True)
    assert results["NFS nfs.pdk.internal:/exports/pdk"].status == "pass"
    (job,) = api.jobs.values()
    volume = job["spec"]["template"]["spec"]["volumes"][0]
    assert volume["nfs"] == {"server": "nfs.pdk.internal", "path": "/exports/pdk", "readOnly": True}
    assert any(method == "DELETE" for method, _ in api.requests)


def test_nfs_job_failure_fails(onprem: dict[str, Any], cluster: tuple[FakeApi, Path]) -> None:
    api, kubeconfig = cluster
    api.job_status = {"failed": 1}
    results = run(onprem, kubeconfig, nfs_job=True)
    assert results["NFS nfs.pdk.internal:/exports/pdk"].status == "fail"


def test_unreachable_cluster_fails(onprem: dict[str, Any], tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                # Port 9 (discard) on loopback: nothing listens, the connection is refused.
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    from kubernetes.client import Configuration

    context = PreflightContext("onprem", onprem["resources"], kubeconfig=str(kubeconfig))
    previous = Configuration.get_default_copy()
    try:
        results = list(ops.preflight(context))
    finally:
        Configuration.set_default(previous)
    assert [c.status for c in results] == ["fail"]
    assert "did not answer" in results[0].detail


def test_missing_kubeconfig_is_one_message(onprem: dict[str, Any], tmp_path: Path) -> None:
    context = PreflightContext("onprem", onprem["resources"], kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(MissingCredentials, match="kubeconfig"):
        list(ops.preflight(context))
