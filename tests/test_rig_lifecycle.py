"""The `local` stack's whole lifecycle under the real Pulumi engine against a real API server.

The rig (``tests/rig/``): the Pulumi CLI and engine v3.276.0, the pulumi-kubernetes provider and
etcd, kube-apiserver, kube-controller-manager and kube-scheduler, all built from their Go
modules; kwok simulates the kubelets, so pods become Running and Ready and Job pods complete,
but no container runs. Stand-ins, because the Go module proxy does not serve their modules: the
Python language host and the random and tls providers (``tests/rig/plugins/``). Admission
webhooks are not called (no webhook server runs); everything else the API server does to an
object is real.

The tests run in order and share one stack: preview, up, a second up that must change nothing,
the policy pack in a real preview, destroy, and a search of the API server for leftovers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from infra.naming import DEPLOYMENT_LABEL
from infra.plan.engine import plan
from tests.rig import session
from tests.rig.project import Result, ensure_stack, pulumi, workspace

STACK = "local"
OUR_NAMESPACES = (
    "pdk-data",
    "models",
    "gpu-pool",
    "pdk-edge",
    "cert-manager",
    "envoy-gateway-system",
    "kserve",
)
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def rig() -> Iterator[Any]:
    reason = session.unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the rig tests: {reason}")
        pytest.skip(reason)
    from kubernetes import client, config

    from tests.rig.cluster import KUBECONFIG

    api = config.new_client_from_config(str(KUBECONFIG))
    work = workspace(STACK)
    ensure_stack(work, STACK)
    # A stack left by an interrupted run starts from nothing.
    pulumi(work, "destroy", "--yes", "--stack", STACK, "--skip-preview", "--remove=false")
    yield type("Rig", (), {"work": work, "api": api, "client": client})
    pulumi(work, "cancel", "--yes", "--stack", STACK)


def _run(rig: Any, *args: str, timeout: float = 900) -> Result:
    result = pulumi(rig.work, *args, "--stack", STACK, timeout=timeout)
    TIMINGS[" ".join(args[:1])] = result.seconds
    return result


def _steps(result: Result) -> list[dict[str, Any]]:
    document = json.loads(result.stdout)
    steps: list[dict[str, Any]] = document.get("steps") or []
    return steps


def test_preview_creates_what_the_offline_plan_lists(rig: Any) -> None:
    """The real engine's preview and ``pdk plan`` (mock engine) declare the same resources."""
    result = _run(rig, "preview", "--json").check()
    real = {
        (step["urn"].split("::")[-2].split("$")[-1], step["urn"].split("::")[-1])
        for step in _steps(result)
        if step["op"] == "create" and step["urn"].split("::")[-2] != "pulumi:pulumi:Stack"
    }
    offline = {(r["type"], r["name"]) for r in plan(STACK).resources}
    assert offline <= real, offline - real
    # The only extras: the objects the provider renders from a chart (charts.applied), which
    # the mock engine cannot render.
    assert all(name.startswith("gateway-crds:") for _, name in real - offline), real - offline


def test_up_completes(rig: Any) -> None:
    _run(rig, "up", "--yes", "--skip-preview").check()
    core = rig.client.CoreV1Api(rig.api)
    namespaces = {n.metadata.name for n in core.list_namespace().items}
    assert {"pdk-data", "models", "gpu-pool", "pdk-edge"} <= namespaces


def test_every_release_is_deployed_and_every_pod_ready(rig: Any) -> None:
    core = rig.client.CoreV1Api(rig.api)
    releases = core.list_secret_for_all_namespaces(label_selector="owner=helm").items
    status = {
        (s.metadata.namespace, s.metadata.labels["name"]): s.metadata.labels["status"]
        for s in releases
    }
    # Five releases: Envoy Gateway's CRD chart is applied as objects (charts.applied).
    assert len(status) == 5, status
    assert set(status.values()) == {"deployed"}, status
    pods = core.list_pod_for_all_namespaces().items
    not_ready = [
        f"{p.metadata.namespace}/{p.metadata.name}"
        for p in pods
        if p.status.phase not in ("Running", "Succeeded")
    ]
    assert pods and not not_ready
    claims = core.list_persistent_volume_claim_for_all_namespaces().items
    assert claims and {c.status.phase for c in claims} == {"Bound"}


def test_second_up_changes_nothing(rig: Any) -> None:
    """Drift from server-defaulted fields or unstable inputs would show as updates here."""
    result = _run(rig, "preview", "--expect-no-changes", "--diff")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_policy_pack_runs_in_a_real_preview(rig: Any) -> None:
    from tests.rig.project import ROOT

    # Exit 0: no mandatory rule of the pack was violated (a violation fails the preview).
    result = _run(rig, "preview", "--policy-pack", str(ROOT / "policy")).check()
    assert "pdk-deployer@" in result.stdout, result.stdout[-2000:]


@pytest.mark.xfail(
    strict=True,
    reason="known leftovers found by the rig, not yet fixed (issue 20 note): namespaces helm "
    "created (cert-manager, envoy-gateway-system, kserve), cert-manager CRDs (crds.keep), Envoy "
    "Gateway's hook objects (topology injector webhook, certgen ClusterRole), MLDM etcd's PVC",
)
def test_destroy_leaves_nothing_of_ours(rig: Any) -> None:
    _run(rig, "destroy", "--yes", "--skip-preview", "--remove=false").check()
    core = rig.client.CoreV1Api(rig.api)
    namespaces = {n.metadata.name for n in core.list_namespace().items}
    assert not namespaces & set(OUR_NAMESPACES)
    labelled = [
        f"{kind}/{item.metadata.name}"
        for kind, items in (
            ("pv", core.list_persistent_volume(label_selector=DEPLOYMENT_LABEL).items),
            ("pvc", core.list_persistent_volume_claim_for_all_namespaces().items),
            ("secret", core.list_secret_for_all_namespaces(label_selector=DEPLOYMENT_LABEL).items),
        )
        for item in items
    ]
    assert not labelled
    extensions = rig.client.ApiextensionsV1Api(rig.api)
    crds = [c.metadata.name for c in extensions.list_custom_resource_definition().items]
    assert not crds
    admission = rig.client.AdmissionregistrationV1Api(rig.api)
    hooks = [
        *(h.metadata.name for h in admission.list_validating_webhook_configuration().items),
        *(h.metadata.name for h in admission.list_mutating_webhook_configuration().items),
    ]
    assert not hooks
