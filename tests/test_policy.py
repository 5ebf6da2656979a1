"""The policy pack (policy/): each rule on a passing and a violating resource, every committed
stack free of violations, and the CrossGuard wrappers calling the same functions.

The pack itself (``PolicyPack``) is never built here: its constructor starts the analyzer's gRPC
server and blocks. What `pulumi preview --policy-pack policy` adds on top (the CLI's analyzer
protocol, unknown values during a real preview) cannot run without the Pulumi CLI.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.ops.policies import render_violations, violations
from policy import rules
from policy.pack import policies
from policy.rules import RULES, Resource, evaluate, from_snapshot
from tests.conftest import STACKS

OPTIONS = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
LABELS = {
    "app.kubernetes.io/part-of": "pdk",
    "pdk-deployer/stack": "s",
    "pdk-deployer/deployment-id": "d",
}


def names(found: list[rules.Violation]) -> set[tuple[str, str]]:
    return {(v.rule, v.resource) for v in found}


def one(rule: str, resource: Resource, config: dict[str, Any] | None = None) -> list[str]:
    return [v.message for v in evaluate([resource], config, [rules.RULES_BY_NAME[rule]])]


@pytest.mark.parametrize("stack", STACKS)
def test_every_committed_stack_is_free_of_violations(snapshots: dict[str, Any], stack: str) -> None:
    assert violations(snapshots[stack]) == []


def test_plan_prints_the_policy_result(snapshots: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(record=True, width=200)
    render_violations(console, snapshots["local"])
    assert f"{len(RULES)} rules, no violations" in console.export_text()
    broken = {
        "resources": [
            {
                "type": "aws:rds/instance:Instance",
                "name": "db",
                "inputs": {"publiclyAccessible": True, "storageEncrypted": True},
            }
        ]
    }
    console = Console(record=True, width=200)
    render_violations(console, broken)
    assert "database-not-public db" in console.export_text()


# --- each rule, passing and violating ---------------------------------------------------------


def test_database_not_public() -> None:
    rds = "aws:rds/instance:Instance"
    assert one("database-not-public", Resource(rds, "db", {"publiclyAccessible": False})) == []
    assert one("database-not-public", Resource(rds, "db", {"publiclyAccessible": True}))
    sql = "gcp:sql/databaseInstance:DatabaseInstance"
    private = {"settings": {"ipConfiguration": {"ipv4Enabled": False}}}
    assert one("database-not-public", Resource(sql, "pg", private)) == []
    assert one("database-not-public", Resource(sql, "pg", {"settings": {}}))
    service = "kubernetes:core/v1:Service"
    exposed = {"spec": {"type": "LoadBalancer", "ports": [{"port": 5432}]}}
    assert one("database-not-public", Resource(service, "pg", exposed))
    internal = {"spec": {"type": "ClusterIP", "ports": [{"port": 5432}]}}
    assert one("database-not-public", Resource(service, "pg", internal)) == []


def test_no_open_ingress_unless_acknowledged() -> None:
    rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    assert one("no-open-ingress", Resource(rule, "r", {"cidrIpv4": "10.0.0.0/16"})) == []
    opened = Resource(rule, "r", {"cidrIpv4": "0.0.0.0/0"})
    assert one("no-open-ingress", opened)
    assert one("no-open-ingress", opened, {"no-open-ingress": {"acknowledged": ["r"]}}) == []
    eks = "aws:eks/cluster:Cluster"
    limited = {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["1.2.3.0/24"]}}
    assert one("no-open-ingress", Resource(eks, "c", limited)) == []
    # EKS's default for publicAccessCidrs is 0.0.0.0/0.
    assert one("no-open-ingress", Resource(eks, "c", {"vpcConfig": {}}))
    release = "kubernetes:helm.sh/v3:Release"
    closed = {
        "values": {
            "controller": {
                "service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]}
            }
        }
    }
    assert one("no-open-ingress", Resource(release, "ingress", closed)) == []
    open_values = {"values": {"controller": {"service": {"type": "LoadBalancer"}}}}
    (message,) = one("no-open-ingress", Resource(release, "ingress", open_values))
    assert "controller.service" in message
    service = {"spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]}}
    assert one("no-open-ingress", Resource("kubernetes:core/v1:Service", "s", service))
    proxy = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"

    def envoy(service: dict[str, Any]) -> Resource:
        spec = {"provider": {"kubernetes": {"envoyService": service}}}
        return Resource(proxy, "proxy", {"kind": "EnvoyProxy", "spec": spec})

    assert one("no-open-ingress", envoy({"type": "LoadBalancer"}))
    ranged = {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]}
    assert one("no-open-ingress", envoy(ranged)) == []
    assert one("no-open-ingress", envoy({"type": "NodePort"})) == []
    gke = "gcp:container/cluster:Cluster"
    authorized = {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}}
    assert one("no-open-ingress", Resource(gke, "gke", authorized))
    limited_gke = {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "1.2.3.0/24"}]}}
    assert one("no-open-ingress", Resource(gke, "gke", limited_gke)) == []
    firewall = {"direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"]}
    assert one("no-open-ingress", Resource("gcp:compute/firewall:Firewall", "fw", firewall))


def test_encryption_at_rest() -> None:
    template = "aws:ec2/launchTemplate:LaunchTemplate"
    good = {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]}
    bad = {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]}
    assert one("encryption-at-rest", Resource(template, "t", good)) == []
    assert one("encryption-at-rest", Resource(template, "t", bad))
    rds = "aws:rds/instance:Instance"
    assert one("encryption-at-rest", Resource(rds, "db", {"storageEncrypted": True})) == []
    assert one("encryption-at-rest", Resource(rds, "db", {}))
    efs = "aws:efs/fileSystem:FileSystem"
    assert one("encryption-at-rest", Resource(efs, "fs", {"encrypted": False}))
    eks = "aws:eks/cluster:Cluster"
    assert one("encryption-at-rest", Resource(eks, "c", {}))
    sc = "kubernetes:storage.k8s.io/v1:StorageClass"
    plain = {"provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}}
    assert one("encryption-at-rest", Resource(sc, "gp3", plain))


def _bucket_set(flags: bool, encrypted: bool) -> list[Resource]:
    bucket = Resource("aws:s3/bucket:Bucket", "b", {"bucket": "x"})
    block = Resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "b-block",
        {f: flags for f in rules._PUBLIC_ACCESS_FLAGS},
        ("b",),
    )
    sse = Resource(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "b-sse",
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        ("b",),
    )
    return [bucket, block] + ([sse] if encrypted else [])


def test_buckets_private() -> None:
    rule = [rules.RULES_BY_NAME["buckets-private"]]
    assert evaluate(_bucket_set(True, True), rules=rule) == []
    found = evaluate(_bucket_set(False, True), rules=rule)
    assert [v.message for v in found] == ["no public access block with all four flags set"]
    found = evaluate(_bucket_set(True, False), rules=rule)
    assert [v.message for v in found] == ["no default server-side encryption"]
    gcs = Resource("gcp:storage/bucket:Bucket", "g", {"uniformBucketLevelAccess": True})
    assert [v.resource for v in evaluate([gcs], rules=rule)] == ["g"]


def test_pinned_versions() -> None:
    release = "kubernetes:helm.sh/v3:Release"
    assert one("pinned-versions", Resource(release, "r", {"chart": "c", "version": "1.2.3"})) == []
    assert one("pinned-versions", Resource(release, "r", {"chart": "c", "version": "^1.2"}))
    assert one("pinned-versions", Resource(release, "r", {"chart": "c"}))
    stateful = "kubernetes:apps/v1:StatefulSet"

    def workload(image: str) -> Resource:
        spec = {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}
        return Resource(stateful, "w", {"kind": "StatefulSet", "spec": spec})

    assert one("pinned-versions", workload("docker.io/library/postgres:13.16")) == []
    assert one("pinned-versions", workload("minio/minio@sha256:" + "a" * 64)) == []
    assert one("pinned-versions", workload("minio/minio:latest"))
    assert one("pinned-versions", workload("localhost:5000/minio"))
    manifests = "kubernetes:yaml/v2:ConfigFile"
    assert (
        one("pinned-versions", Resource(manifests, "k", {"file": "https://x/v1.2.3/a.yaml"})) == []
    )
    assert one("pinned-versions", Resource(manifests, "k", {"file": "https://x/latest/a.yaml"}))


def test_labels_and_tags() -> None:
    namespace = "kubernetes:core/v1:Namespace"
    labelled = {"kind": "Namespace", "metadata": {"labels": LABELS}}
    assert one("labels-and-tags", Resource(namespace, "n", labelled)) == []
    bare = {"kind": "Namespace", "metadata": {"labels": {"app.kubernetes.io/part-of": "pdk"}}}
    (message,) = one("labels-and-tags", Resource(namespace, "n", bare))
    assert "pdk-deployer/stack" in message
    vpc = "aws:ec2/vpc:Vpc"
    assert one("labels-and-tags", Resource(vpc, "v", {"tags": LABELS})) == []
    assert one("labels-and-tags", Resource(vpc, "v", {"tags": {"Name": "x"}}))


def _takes_tags(token: str) -> bool:
    _, module_path, name = token.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    return "tags" in inspect.signature(getattr(module, name)._internal_init).parameters


def test_taggable_set_matches_pulumi_aws_for_every_planned_type(
    snapshots: dict[str, Any],
) -> None:
    """A new AWS type in any stack must be classified: in the set if it takes tags."""
    planned = {
        r["type"]
        for snapshot in snapshots.values()
        for r in snapshot["resources"]
        if r["type"].startswith("aws:")
    }
    assert planned
    for token in sorted(planned):
        assert _takes_tags(token) == (token in rules.TAGGABLE_AWS_TYPES), token


def _gpu_stack(effect: str, tolerated_value: str) -> list[Resource]:
    group = Resource(
        "aws:eks/nodeGroup:NodeGroup",
        "gpu",
        {
            "labels": {"nodegroup-role": "gpu-worker"},
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": effect}],
        },
    )
    spec = {
        "nodeSelector": {"nodegroup-role": "gpu-worker"},
        "tolerations": [
            {
                "key": "nvidia.com/gpu",
                "operator": "Equal",
                "value": tolerated_value,
                "effect": "NoSchedule",
            }
        ],
    }
    pools = [{"pool_name": "gpu-pool", "task_container_defaults": {"gpu_pod_spec": {"spec": spec}}}]
    release = Resource(
        "kubernetes:helm.sh/v3:Release",
        "mldm",
        {"values": {"determined": {"resourcePools": pools}}},
    )
    return [group, release]


def test_gpu_taint_matches_mlde() -> None:
    rule = [rules.RULES_BY_NAME["gpu-taint-matches-mlde"]]
    assert evaluate(_gpu_stack("NO_SCHEDULE", "present"), rules=rule) == []
    (wrong,) = evaluate(_gpu_stack("NO_SCHEDULE", "yes"), rules=rule)
    assert wrong.resource == "gpu" and "does not tolerate" in wrong.message
    assert evaluate(_gpu_stack("NO_EXECUTE", "present"), rules=rule)


def test_no_secret_in_configmaps() -> None:
    configmap = "kubernetes:core/v1:ConfigMap"

    def data(values: dict[str, str]) -> Resource:
        return Resource(configmap, "c", {"kind": "ConfigMap", "data": values})

    assert (
        one("no-secret-in-configmaps", data({"db_host": "pg", "url": "postgresql://u@h/db"})) == []
    )
    assert one("no-secret-in-configmaps", data({"db_password": "hunter2"}))
    assert one("no-secret-in-configmaps", data({"url": "postgresql://u:hunter2@h/db"}))
    assert one("no-secret-in-configmaps", data({"x": "[secret]"}))
    assert one("no-secret-in-configmaps", data({"k": "-----BEGIN RSA PRIVATE KEY-----"}))


# --- the CrossGuard wrappers call the same functions ------------------------------------------


def _policy(name: str) -> Any:
    (found,) = [p for p in policies() if p.name == name]
    return found


def test_pack_has_one_policy_per_rule() -> None:
    built = policies()
    assert [p.name for p in built] == [rule.name for rule in RULES]
    for policy_, rule in zip(built, RULES, strict=True):
        wanted = ResourceValidationPolicy if rule.check_resource else StackValidationPolicy
        assert isinstance(policy_, wanted)


def test_resource_policy_reports_through_pulumi_policy() -> None:
    reported: list[str] = []
    args = ResourceValidationArgs(
        "aws:rds/instance:Instance",
        {"publiclyAccessible": True},
        "urn:pulumi:s::p::aws:rds/instance:Instance::db",
        "db",
        OPTIONS,
        None,
        config={},
    )
    _policy("database-not-public").validate(
        args, lambda message, urn=None: reported.append(message)
    )
    assert reported and "publicly accessible" in reported[0]
    # The acknowledged list arrives through the policy config.
    open_rule = ResourceValidationArgs(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"cidrIpv4": "0.0.0.0/0"},
        "urn:x",
        "r",
        OPTIONS,
        None,
        config={"acknowledged": ["r"]},
    )
    reported.clear()
    _policy("no-open-ingress").validate(
        open_rule, lambda message, urn=None: reported.append(message)
    )
    assert reported == []


def test_stack_policy_matches_dependencies_through_pulumi_policy() -> None:

    def policy_resource(resource: Resource, deps: list[PolicyResource]) -> PolicyResource:
        return PolicyResource(
            resource.type,
            dict(resource.props),
            f"urn:{resource.name}",
            resource.name,
            OPTIONS,
            None,
            None,
            deps,
            {},
        )

    bucket, block = _bucket_set(True, True)[:2]
    bucket_resource = policy_resource(bucket, [])
    block_resource = policy_resource(block, [bucket_resource])
    reported: list[tuple[str, str | None]] = []
    args = StackValidationArgs([bucket_resource, block_resource], config={})
    _policy("buckets-private").validate(args, lambda m, urn=None: reported.append((m, urn)))
    # The block is matched through its dependency; only the missing encryption is reported.
    assert reported == [("no default server-side encryption", "urn:b")]


def test_snapshot_resources_keep_dependencies(snapshots: dict[str, Any]) -> None:
    resources = {r.name: r for r in from_snapshot(snapshots["aws"])}
    block = resources["cluster-buckets-mldm-public-access"]
    assert block.dependencies == ("cluster-buckets-mldm",)
