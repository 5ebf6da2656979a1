"""The existing-cluster target: what it registers for stacks that run on a cluster you already
have (in-cluster Postgres and MinIO, the shared filesystem, protection), checked on the real
program under mocks. The setup Jobs' scripts are run in ``tests/test_setup_scripts.py``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import outputs
from infra.contract import DATABASES
from infra.plan.engine import SECRET
from policy.rules import check as policy_check
from tests.conftest import IN_CLUSTER_STACKS, STACKS, by_kind, k8s_objects

STATEFUL_KINDS = {"StatefulSet", "PersistentVolume", "PersistentVolumeClaim"}


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_stateful_resources_are_protected_unless_ephemeral(
    snapshots: dict[str, Any], stack: str
) -> None:
    from infra.config.load import load_config
    from infra.plan.stackfiles import read_stack

    ephemeral = load_config(stack, *read_stack(stack)).ephemeral
    stateful = [(r, m) for r, m in k8s_objects(snapshots[stack]) if m["kind"] in STATEFUL_KINDS]
    # postgres, minio, MLDM etcd's claim, and a volume + claim per shared namespace
    assert len(stateful) == 7
    for resource, manifest in stateful:
        assert resource["protect"] is (not ephemeral), resource["name"]
        if manifest["kind"] == "StatefulSet":
            policy = manifest["spec"]["persistentVolumeClaimRetentionPolicy"]
            assert policy["whenDeleted"] == ("Delete" if ephemeral else "Retain")
    data_namespace = next(
        r
        for r, m in k8s_objects(snapshots[stack])
        if m["kind"] == "Namespace" and m["metadata"]["name"] == "pdk-data"
    )
    assert data_namespace["protect"] is (not ephemeral)


def test_stacks_differ_in_protection() -> None:
    """The committed stacks cover both sides of the rule above."""
    from infra.config.load import load_config
    from infra.plan.stackfiles import read_stack

    flags = {load_config(s, *read_stack(s)).ephemeral for s in STACKS}
    assert flags == {True, False}


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_postgres_data_lives_on_its_volume(snapshots: dict[str, Any], stack: str) -> None:
    (postgres,) = [
        m for m in by_kind(snapshots[stack], "StatefulSet") if m["metadata"]["name"] == "postgres"
    ]
    spec = postgres["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    pgdata = next(e["value"] for e in container["env"] if e["name"] == "PGDATA")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in spec["volumeClaimTemplates"]}
    mounted_claims = [
        name
        for name, path in mounts.items()
        if name in claims and pgdata.startswith(path.rstrip("/") + "/")
    ]
    assert mounted_claims == ["data"], (pgdata, mounts)
    assert container["image"].startswith("docker.io/library/postgres:16.")


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_database_job_creates_the_three_databases_after_the_server(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    job = next(r for r in snapshot["resources"] if r["name"] == "cluster-postgres-databases")
    assert "cluster-postgres-server" in job["dependencies"]
    script = job["inputs"]["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert f"for db in {' '.join(DATABASES)}; do" in script
    assert "WHERE datname" in script  # checks before creating: safe to re-run


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_minio_is_pinned_with_generated_credentials(snapshots: dict[str, Any], stack: str) -> None:
    snapshot = snapshots[stack]
    (minio,) = [m for m in by_kind(snapshot, "StatefulSet") if m["metadata"]["name"] == "minio"]
    container = minio["spec"]["template"]["spec"]["containers"][0]
    assert not policy_check(snapshot, "pinned-versions")
    assert "RELEASE." in container["image"]
    assert "minioadmin" not in json.dumps(snapshot)
    (root,) = [
        m for m in by_kind(snapshot, "Secret") if m["metadata"]["name"] == "minio-root-credentials"
    ]
    assert root["stringData"] == SECRET


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_bucket_setup_creates_each_bucket_and_scoped_users(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    job = next(r for r in snapshot["resources"] if r["name"] == "cluster-minio-setup")
    env = {
        e["name"]: e.get("value")
        for e in job["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    buckets = snapshot["outputs"][outputs.BUCKETS]
    assert env["BUCKETS"].split() == [buckets["mldm"], buckets["checkpoints"], buckets["models"]]
    for workload, allowed in (
        ("MLDM", set(buckets.values())),
        ("MLDE", {buckets["checkpoints"]}),
        ("KSERVE", {buckets["models"]}),
    ):
        policy = json.loads(env[f"POLICY_{workload}"])
        resources = {arn for statement in policy["Statement"] for arn in statement["Resource"]}
        named = {arn.removeprefix("arn:aws:s3:::").removesuffix("/*") for arn in resources}
        assert named == allowed, workload
        assert "*" not in {arn.removeprefix("arn:aws:s3:::") for arn in resources}
    kserve = json.loads(env["POLICY_KSERVE"])
    actions = {a for statement in kserve["Statement"] for a in statement["Action"]}
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in actions)


def test_onprem_shares_over_nfs_and_local_over_host_path(snapshots: dict[str, Any]) -> None:
    onprem = by_kind(snapshots["onprem"], "PersistentVolume")[0]["spec"]
    local = by_kind(snapshots["local"], "PersistentVolume")[0]["spec"]
    assert onprem["nfs"] == {"server": "nfs.pdk.internal", "path": "/exports/pdk"}
    assert local["hostPath"]["path"] == "/mnt/pdk-shared"


def test_storage_class_reaches_both_data_volumes() -> None:
    from infra.config.load import load_config
    from infra.plan.engine import run_program

    def classes(raw: dict[str, str]) -> list[Any]:
        snapshot = run_program("sc", load_config("sc", {"target": "existing", **raw})).to_dict()
        return [
            template["spec"].get("storageClassName")
            for manifest in by_kind(snapshot, "StatefulSet")
            for template in manifest["spec"]["volumeClaimTemplates"]
        ]

    assert classes({"kubeStorageClass": "fast-ssd"}) == ["fast-ssd", "fast-ssd"]
    assert classes({}) == [None, None]  # the cluster's default StorageClass
