"""`pdk preflight` for the GCP target, against google-api-python-client with a routed fake HTTP.

The real Compute Engine v1 and GKE v1 clients are built from the discovery documents the
library ships (no network) and send their requests to an in-process ``Http`` object that
answers by URL with documents in the shape of the API reference (projects.get quotas,
regions.get quotas, machineTypes.get, acceleratorTypes.list, getServerConfig). They are written
by hand, not captured from a real project: the tests prove what the checks ask and how they
read the answers, not what Google returns today.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httplib2
import pytest
from googleapiclient import discovery

from infra.ops.preflight import Check, MissingCredentials, PreflightContext, exit_code
from infra.targets.gcp import ops as gcp_ops

PROJECT = "pdk-demo-project"


class RoutedHttp:
    """Answers each request from the first route whose regex matches the URL path."""

    def __init__(self, routes: dict[str, tuple[int, Any]]) -> None:
        self.routes = routes
        self.requests: list[str] = []

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[Any, bytes]:
        path = uri.split("?")[0]
        self.requests.append(f"{method} {path}")
        for pattern, (status, document) in self.routes.items():
            if re.search(pattern, path):
                return httplib2.Response({"status": str(status)}), json.dumps(document).encode()
        return httplib2.Response({"status": "404"}), b'{"error": {"code": 404}}'


def quota(metric: str, limit: float, usage: float = 0) -> dict[str, Any]:
    return {"metric": metric, "limit": limit, "usage": usage}


def routes(**changes: tuple[int, Any]) -> dict[str, tuple[int, Any]]:
    base: dict[str, tuple[int, Any]] = {
        rf"/projects/{PROJECT}$": (
            200,
            {"name": PROJECT, "quotas": [quota("GPUS_ALL_REGIONS", 4)]},
        ),
        r"/regions/us-central1$": (
            200,
            {
                "name": "us-central1",
                "status": "UP",
                "quotas": [
                    quota("CPUS", 72, 8),
                    quota("E2_CPUS", 72),
                    quota("NVIDIA_T4_GPUS", 4),
                    quota("PREEMPTIBLE_NVIDIA_T4_GPUS", 4),
                ],
            },
        ),
        r"/machineTypes/e2-standard-8$": (200, {"name": "e2-standard-8", "guestCpus": 8}),
        r"/machineTypes/n1-standard-8$": (200, {"name": "n1-standard-8", "guestCpus": 8}),
        r"/zones/us-central1-c/acceleratorTypes$": (
            200,
            {"items": [{"name": "nvidia-tesla-t4"}, {"name": "nvidia-l4"}]},
        ),
        r"/locations/us-central1-c/serverConfig$": (
            200,
            {
                "validMasterVersions": ["1.35.0-gke.300", "1.34.1-gke.100", "1.33.5-gke.200"],
                "channels": [{"channel": "REGULAR", "validVersions": ["1.34.1-gke.100"]}],
            },
        ),
    }
    # Changed routes are tried first (the first matching pattern answers).
    merged = dict(changes)
    for pattern, answer in base.items():
        merged.setdefault(pattern, answer)
    return merged


def run(snapshot: dict[str, Any], http: RoutedHttp) -> dict[str, Check]:
    def clients(name: str, **_: Any) -> Any:
        if name == "credentials":
            return None, PROJECT
        version = "v1"
        return discovery.build(
            name, version, http=http, static_discovery=True, cache_discovery=False
        )

    context = PreflightContext("gcp", snapshot["resources"], clients=clients)
    return {check.name: check for check in gcp_ops.preflight(context)}


def planned_version(snapshot: dict[str, Any]) -> str:
    (cluster,) = [r for r in snapshot["resources"] if r["type"] == "gcp:container/cluster:Cluster"]
    return str(cluster["inputs"]["minMasterVersion"])


@pytest.fixture
def gcp(snapshots: dict[str, Any]) -> dict[str, Any]:
    return snapshots["gcp"]


def test_everything_passes_for_the_committed_stack(gcp: dict[str, Any]) -> None:
    http = RoutedHttp(routes())
    results = run(gcp, http)
    assert {c.status for c in results.values()} == {"pass"}, results
    # 4 CPU nodes x 8 vCPUs on E2 plus 2 GPU nodes x 8 on N1 ("CPUS").
    assert "32 needed" in results["regional quota E2_CPUS"].detail
    assert "2 needed" in results["regional quota NVIDIA_T4_GPUS"].detail
    version = planned_version(gcp)
    assert results[f"GKE Kubernetes {version}"].detail.startswith(f"offered ({version}.")
    assert all(r.startswith("GET") for r in http.requests)  # read-only


def test_machine_type_not_in_zone_fails(gcp: dict[str, Any]) -> None:
    results = run(gcp, RoutedHttp(routes(**{r"/machineTypes/n1-standard-8$": (404, {})})))
    assert results["n1-standard-8 in us-central1-c"].status == "fail"


def test_accelerator_not_in_zone_fails(gcp: dict[str, Any]) -> None:
    only_l4 = (200, {"items": [{"name": "nvidia-l4"}]})
    results = run(gcp, RoutedHttp(routes(**{r"/zones/us-central1-c/acceleratorTypes$": only_l4})))
    check = results["nvidia-tesla-t4 in us-central1-c"]
    assert check.status == "fail" and "nvidia-l4" in check.detail


def test_gpu_quota_in_use_fails(gcp: dict[str, Any]) -> None:
    region = (
        200,
        {
            "name": "us-central1",
            "status": "UP",
            "quotas": [quota("CPUS", 72), quota("E2_CPUS", 72), quota("NVIDIA_T4_GPUS", 2, 1)],
        },
    )
    results = run(gcp, RoutedHttp(routes(**{r"/regions/us-central1$": region})))
    check = results["regional quota NVIDIA_T4_GPUS"]
    assert check.status == "fail" and "1 free" in check.detail
    assert exit_code(list(results.values())) == 1


def test_global_gpu_quota_of_a_new_project_fails(gcp: dict[str, Any]) -> None:
    project = (200, {"name": PROJECT, "quotas": [quota("GPUS_ALL_REGIONS", 0)]})
    results = run(gcp, RoutedHttp(routes(**{rf"/projects/{PROJECT}$": project})))
    assert results["global quota GPUS_ALL_REGIONS"].status == "fail"


def test_project_not_readable_fails(gcp: dict[str, Any]) -> None:
    results = run(gcp, RoutedHttp(routes(**{rf"/projects/{PROJECT}$": (403, {})})))
    assert [c.status for c in results.values()] == ["fail"]
    assert "cannot read project" in results["credentials"].detail


def test_kubernetes_version_not_offered_fails(gcp: dict[str, Any]) -> None:
    old = (200, {"validMasterVersions": ["1.20.1-gke.1"], "channels": []})
    results = run(gcp, RoutedHttp(routes(**{r"/serverConfig$": old})))
    assert results[f"GKE Kubernetes {planned_version(gcp)}"].status == "fail"


def test_no_credentials_is_one_message(
    gcp: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Real Application Default Credentials lookup with nothing to find; the metadata server
    check is switched off so nothing leaves the machine."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    context = PreflightContext("gcp", gcp["resources"])
    with pytest.raises(MissingCredentials, match="application-default login"):
        list(gcp_ops.preflight(context))
