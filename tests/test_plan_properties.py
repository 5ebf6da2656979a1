"""Properties of what every stack registers, checked on the real program under mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import outputs
from infra.contract import DATABASES, SHARED_CLAIM
from infra.naming import DEPLOYMENT_LABEL, STACK_LABEL
from infra.plan.engine import MOCK_SECRET_PREFIX, SECRET
from policy.rules import check as policy_check
from tests.conftest import STACKS, TARGET_OF, by_kind, k8s_objects

STATEFUL_KINDS = {"StatefulSet", "PersistentVolume", "PersistentVolumeClaim"}


def test_every_stack_in_stacks_dir_is_planned(snapshots: dict[str, Any]) -> None:
    assert {"local", "onprem"} <= set(snapshots)


@pytest.mark.parametrize("stack", STACKS)
def test_generated_secrets_never_appear_in_clear(snapshots: dict[str, Any], stack: str) -> None:
    text = json.dumps(snapshots[stack])
    assert MOCK_SECRET_PREFIX not in text
    assert SECRET in text  # the secrets are there, redacted


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_in_configmaps_labels_annotations_or_outputs(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    assert not policy_check(snapshot, "no-secret-in-configmaps")
    for resource, manifest in k8s_objects(snapshot):
        metadata = manifest.get("metadata", {})
        for field in ("labels", "annotations"):
            assert SECRET not in json.dumps(metadata.get(field, {})), resource["name"]
    # The kubeconfig of a created cluster is the one output that is a secret, and it is one.
    shown = {k: v for k, v in snapshot["outputs"].items() if k != outputs.KUBECONFIG}
    assert SECRET not in json.dumps(shown)
    if outputs.KUBECONFIG in snapshot["outputs"]:
        assert snapshot["outputs"][outputs.KUBECONFIG] == SECRET


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_carries_the_label_set(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    deployment_id = snapshot["outputs"][outputs.DEPLOYMENT_ID]
    objects = list(k8s_objects(snapshot))
    assert objects
    assert not policy_check(snapshot, "labels-and-tags")
    for resource, manifest in objects:
        labels = manifest["metadata"]["labels"]
        assert labels[STACK_LABEL] == stack, resource["name"]
        assert labels[DEPLOYMENT_LABEL] == deployment_id, resource["name"]
        assert labels["app.kubernetes.io/part-of"] == "pdk"
        template = manifest.get("spec", {}).get("template")
        if template:
            assert template["metadata"]["labels"][DEPLOYMENT_LABEL] == deployment_id


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_uses_the_stack_provider(
    snapshots: dict[str, Any], stack: str
) -> None:
    providers = {
        r["name"]
        for r in snapshots[stack]["resources"]
        if r["type"] == "pulumi:providers:kubernetes"
    }
    assert len(providers) == 1
    for resource, _ in k8s_objects(snapshots[stack]):
        assert resource["provider"] in providers, resource["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_postgres_password_comes_from_a_generated_secret(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    found = [
        m for m in by_kind(snapshot, "Secret") if m["metadata"]["name"] == "postgres-credentials"
    ]
    if not found:
        pytest.skip("the target hands the password to its cloud's database API, not to a Secret")
    (secret,) = found
    # The Kubernetes SDK marks a Secret's whole stringData secret, key names included.
    assert secret["stringData"] == SECRET
    generator = next(r for r in snapshot["resources"] if r["name"] == "cluster-postgres-password")
    assert generator["type"] == "random:index/randomPassword:RandomPassword"
    secret_resource = next(r for r, m in k8s_objects(snapshot) if m is secret)
    assert generator["name"] in secret_resource["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_shared_claim_is_bound_in_default_and_gpu_pool(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    claims = {m["metadata"]["namespace"]: m for m in by_kind(snapshot, "PersistentVolumeClaim")}
    volumes = {m["metadata"]["name"]: m for m in by_kind(snapshot, "PersistentVolume")}
    assert set(claims) == {"default", "gpu-pool"}
    for namespace, claim in claims.items():
        assert claim["metadata"]["name"] == SHARED_CLAIM
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        volume = volumes[claim["spec"]["volumeName"]]
        assert volume["spec"]["claimRef"] == {"name": SHARED_CLAIM, "namespace": namespace}
        assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    sources = {
        json.dumps(
            {k: v for k, v in vol["spec"].items() if k in ("nfs", "hostPath")}, sort_keys=True
        )
        for vol in volumes.values()
    }
    assert len(sources) == 1  # every claim sees the same folder


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_for_other_namespaces_wait_for_them(snapshots: dict[str, Any], stack: str) -> None:
    namespaces = {
        m["metadata"]["name"]: r["name"]
        for r, m in k8s_objects(snapshots[stack])
        if m["kind"] == "Namespace"
    }
    for resource, manifest in k8s_objects(snapshots[stack]):
        namespace = manifest["metadata"].get("namespace")
        if namespace in namespaces:
            assert namespaces[namespace] in resource["dependencies"], resource["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_are_the_declared_contract(snapshots: dict[str, Any], stack: str) -> None:
    exported = snapshots[stack]["outputs"]
    created_cluster = TARGET_OF[stack] != "existing"
    expected = set(outputs.ALL) | {outputs.CA_CERTIFICATE}  # TLS is on in every stack file
    assert set(exported) == expected | ({outputs.KUBECONFIG} if created_cluster else set())
    assert exported[outputs.POSTGRES]["databases"] == list(DATABASES)
    assert exported[outputs.SHARED_FILESYSTEM]["claim"] == SHARED_CLAIM
    assert (
        f"{DEPLOYMENT_LABEL}={exported[outputs.DEPLOYMENT_ID]}" in exported[outputs.FIND_RESOURCES]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_containers_run_restricted(snapshots: dict[str, Any], stack: str) -> None:
    for resource, manifest in k8s_objects(snapshots[stack]):
        template = manifest.get("spec", {}).get("template")
        if not template:
            continue
        if resource["name"] == "gpu-device-plugin":
            # The one exception: root for the kubelet's socket directory, but unprivileged.
            for container in template["spec"]["containers"]:
                assert container["securityContext"]["privileged"] is False
        else:
            assert template["spec"]["securityContext"]["runAsNonRoot"] is True, resource["name"]
        for container in template["spec"]["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
