"""A stack's whole lifecycle under the real Pulumi engine against a real API server (`local` in
`make test`; `onprem`, less what the rig cannot host, in `make rig-onprem` and CI),
driven the way CI drives it: ``pdk ci up``, ``pdk verify``, ``pdk ci down`` (Automation API and
the real CLI), with the real CLI's preview, no-change check and policy pack in between.

The rig (``tests/rig/``): the Pulumi CLI and engine v3.276.0, the pulumi-kubernetes provider and
etcd, kube-apiserver, kube-controller-manager and kube-scheduler, all built from their Go
modules; kwok simulates the kubelets, so pods become Running and Ready and Job pods complete,
but no container runs. Stand-ins, because the Go module proxy does not serve their modules: the
Python language host and the random and tls providers (``tests/rig/plugins/``). Admission
webhooks are not called (no webhook server runs); everything else the API server does to an
object is real. ``pdk verify``'s MLDM, MLDE and model checks need running servers, which kwok
does not provide: only its cluster checks are asserted here.

The tests run in order and share one stack: an offline-plan comparison on a preview, ``ci up``,
releases and pods, ``verify``, a second preview that must change nothing, the policy pack,
``ci down`` (drain, destroy, leak report, stack removal), and a search of the API server for
anything of ours left.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.naming import DEPLOYMENT_LABEL
from infra.plan.engine import plan
from tests.rig import session
from tests.rig.cluster import PulumiEnv
from tests.rig.project import (
    PROJECTS,
    ROOT,
    Result,
    ensure_stack,
    pulumi,
    rig_settings,
    workspace,
)

RIG_OVERRIDES: dict[str, dict[str, str]] = {
    "local": {},
    # What the rig cannot host, switched off on top of the committed `onprem` stack file: Istio
    # (its chart's Go module is not served at the pin), hence KServe's Serverless mode (Knative's
    # manifests come from GitHub release downloads), and the flow (its images are built with
    # Docker and its providers need a running pachd and MLDE master).
    "onprem": {
        "istioEnabled": "false",
        "kserveDeploymentMode": "RawDeployment",
        "flowEnabled": "false",
    },
}
STACK = os.environ.get("PDK_RIG_STACK", "local")
"""Which stack file the lifecycle runs (`make test`: local; `make rig-onprem`: onprem)."""
OVERRIDES = RIG_OVERRIDES[STACK]
CI_STACK = f"rig-{STACK}"
"""The throwaway stack ``pdk ci up`` makes from STACK; ``ci down`` removes it and its file."""
CHECKOUT = PROJECTS / f"checkout-{STACK}"
"""A copy of the checkout (the files git tracks or would track) that ``pdk`` runs from, so the
new stack's file lands in its ``stacks/``, not in the repository's, where tests running beside
this one list the stack files."""


def _refresh_checkout() -> None:
    """Copies the checkout's files over CHECKOUT; a throwaway stack's file is kept (an
    interrupted run's stack is taken down with it)."""
    done = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True
    )
    if done.returncode == 0:
        names = [name for name in done.stdout.decode().split("\0") if name]
    else:  # not a git checkout: the project's own folders and files
        names = [
            str(path.relative_to(ROOT))
            for top in ("infra", "pdk_assets", "policy", "stacks", "examples", "images")
            for path in (ROOT / top).rglob("*")
            if "venv" not in path.parts and "__pycache__" not in path.parts
        ] + ["Pulumi.yaml", "__main__.py", "pyproject.toml"]
    for entry in CHECKOUT.iterdir() if CHECKOUT.exists() else []:
        if entry.name not in ("stacks", ".venv"):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for name in names:
        source, target = ROOT / name, CHECKOUT / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if not (CHECKOUT / ".venv").exists():
        (CHECKOUT / ".venv").symlink_to(ROOT / ".venv")


OUR_NAMESPACES = (
    "pdk-data",
    "models",
    "gpu-pool",
    "pdk-edge",
    "cert-manager",
    "envoy-gateway-system",
    "kserve",
)


def _pdk(*args: str, timeout: float = 900) -> Result:
    """``pdk`` as a user runs it, with the rig's environment (CLI on PATH, local backend)."""
    # PYTHONPATH: the copy's own `infra` (and the program the CLI runs from it) is imported.
    env = {
        **os.environ,
        **PulumiEnv.make().variables,
        "COLUMNS": "200",
        "PYTHONPATH": str(CHECKOUT),
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "infra.cli", *args],
        cwd=CHECKOUT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(
        ("pdk", *args), done.returncode, done.stdout, done.stderr, time.monotonic() - started
    )


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
    work = workspace(STACK, OVERRIDES)
    ensure_stack(work, STACK)
    _refresh_checkout()
    # A stack left by an interrupted run is taken down first.
    if pulumi(CHECKOUT, "stack", "select", CI_STACK).returncode == 0:
        pulumi(CHECKOUT, "cancel", "--yes", "--stack", CI_STACK)
        _pdk("ci", "down", "--stack", CI_STACK, "--force")
    yield type("Rig", (), {"work": work, "api": api, "client": client})
    pulumi(CHECKOUT, "cancel", "--yes", "--stack", CI_STACK)


def _run(*args: str, timeout: float = 900) -> Result:
    """The real CLI on the ``ci up`` stack, in the checkout's copy (where ``ci up`` made it)."""
    return pulumi(CHECKOUT, *args, "--stack", CI_STACK, timeout=timeout)


def _steps(result: Result) -> list[dict[str, Any]]:
    document = json.loads(result.stdout)
    steps: list[dict[str, Any]] = document.get("steps") or []
    return steps


def test_preview_creates_what_the_offline_plan_lists(rig: Any) -> None:
    """The real engine's preview and ``pdk plan`` (mock engine) declare the same resources."""
    result = pulumi(rig.work, "preview", "--json", "--stack", STACK).check()
    real = {
        (step["urn"].split("::")[-2].split("$")[-1], step["urn"].split("::")[-1])
        for step in _steps(result)
        if step["op"] == "create" and step["urn"].split("::")[-2] != "pulumi:pulumi:Stack"
    }
    # The offline plan of the same stack file the CLI previews (rig settings included).
    offline = {(r["type"], r["name"]) for r in plan(STACK, root=rig.work).resources}
    assert offline <= real, offline - real
    # The only extras: the objects the provider renders from a chart (charts.applied), which
    # the mock engine cannot render.
    assert all(name.startswith("gateway-crds:") for _, name in real - offline), real - offline


def test_ci_up_creates_tags_and_deploys_the_stack(rig: Any) -> None:
    settings = [f"--set={k}={v}" for k, v in {**rig_settings(), **OVERRIDES}.items()]
    result = _pdk("ci", "up", "--stack", STACK, "--name", CI_STACK, "--ttl", "2h", *settings)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    # Progress lines first, then the outputs as a JSON document whose first line is "{".
    document = re.search(r"^\{$", result.stdout, re.M)
    assert document, result.stdout[-2000:]
    outputs = json.loads(result.stdout[document.start() :])
    assert outputs["deploymentId"] == CI_STACK
    tags = json.loads(_run("stack", "tag", "ls", "--json").check().stdout)
    assert {"pdk:ephemeral", "pdk:expires", "pdk:owner"} <= set(tags), tags
    core = rig.client.CoreV1Api(rig.api)
    namespaces = {n.metadata.name for n in core.list_namespace().items}
    assert set(OUR_NAMESPACES) <= namespaces


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


def test_verify_passes_its_cluster_checks(rig: Any) -> None:
    result = _pdk("verify", "--stack", CI_STACK, "--json", "--timeout", "60")
    document = json.loads(result.stdout)
    status = {check["name"]: check for check in document["checks"]}
    for name in ("nodes Ready", "Helm releases deployed", "pods Ready"):
        assert status[name]["status"] == "pass", status[name]


def test_second_up_changes_nothing(rig: Any) -> None:
    """Drift from server-defaulted fields or unstable inputs would show as updates here."""
    result = _run("preview", "--expect-no-changes", "--diff")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_policy_pack_runs_in_a_real_preview(rig: Any) -> None:
    # Exit 0: no mandatory rule of the pack was violated (a violation fails the preview).
    result = _run("preview", "--policy-pack", str(ROOT / "policy")).check()
    assert "pdk-deployer@" in result.stdout, result.stdout[-2000:]


def test_ci_down_destroys_finds_no_leak_and_removes_the_stack(rig: Any, tmp_path: Any) -> None:
    report = tmp_path / "leaks.json"
    result = _pdk("ci", "down", "--stack", CI_STACK, "--report", str(report))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    document = json.loads(report.read_text())
    assert document["leaks"] == [] and document["errors"] == [], document
    assert not (CHECKOUT / "stacks" / f"Pulumi.{CI_STACK}.yaml").exists()
    assert pulumi(CHECKOUT, "stack", "select", CI_STACK).returncode != 0


def test_nothing_of_ours_is_left_in_the_cluster(rig: Any) -> None:
    """Broader than ``ci down``'s leak report: any namespace of ours, any claim, any CRD or
    webhook configuration (the rig's cluster has none of its own)."""
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
