"""What a cloud would compute for a resource or data source, faked for the offline plan.

The mock engine echoes a resource's inputs as its outputs, which is not enough for resources
whose computed outputs the program reads: an EKS cluster's OIDC issuer, an RDS address, a node
group's Auto Scaling group, a load balancer's address. This module supplies those outputs
with obvious placeholder values: account 123456789012 (AWS's documentation account) and ids
ending in ``-mock``. Only outputs the program reads are faked; a new read shows up as a
failing plan, not as a silently wrong value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

ACCOUNT = "123456789012"
"""The AWS account of every mocked ARN."""
DEFAULT_REGION = "us-east-2"


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def _eks_cluster(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    cluster = inputs.get("name", name)
    return {
        "arn": _arn("eks", region, f"cluster/{cluster}"),
        "endpoint": f"https://{cluster}-mock.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "bW9jay1jZXJ0aWZpY2F0ZS1hdXRob3JpdHk="},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{cluster}-mock"}]}
        ],
        "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": "sg-cluster-mock"},
    }


def _node_group(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    group = inputs.get("nodeGroupName", name)
    return {
        "arn": _arn("eks", region, f"nodegroup/{inputs.get('clusterName')}/{group}/mock"),
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-mock"}]}],
    }


def _rds_instance(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    host = f"{inputs.get('identifier', name)}.mock.{region}.rds.amazonaws.com"
    return {"address": host, "endpoint": f"{host}:{inputs.get('port', 5432)}"}


def _ecr_repository(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    repository = inputs.get("name", name)
    return {
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository}",
        "registryId": ACCOUNT,
    }


def _load_balancer(name: str, inputs: Mapping[str, Any], _: str) -> dict[str, Any]:
    """An Ingress, or a LoadBalancer Service, gets an address from the cluster's load balancer
    controller; the Kubernetes provider waits for it."""
    host = f"{inputs.get('metadata', {}).get('name', name)}.lb-mock.example"
    return {"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}}


def _service(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    if inputs.get("spec", {}).get("type") != "LoadBalancer":
        return {}
    return _load_balancer(name, inputs, region)


_RESOURCES: dict[str, Callable[[str, Mapping[str, Any], str], dict[str, Any]]] = {
    "kubernetes:core/v1:Service": _service,
    "kubernetes:networking.k8s.io/v1:Ingress": _load_balancer,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:iam/role:Role": lambda name, inputs, _: {
        "arn": f"arn:aws:iam::{ACCOUNT}:role/{inputs.get('name', name)}"
    },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda name, inputs, _: {
        "arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/"
        + str(inputs.get("url", name)).removeprefix("https://")
    },
    "aws:s3/bucket:Bucket": lambda name, inputs, _: {
        "arn": f"arn:aws:s3:::{inputs.get('bucket', name)}"
    },
    "aws:kms/key:Key": lambda name, _, region: {"arn": _arn("kms", region, f"key/{name}-mock")},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda *_: {"latestVersion": 1},
}


def resource_outputs(
    typ: str, name: str, inputs: Mapping[str, Any], region: str | None
) -> dict[str, Any]:
    """Outputs a cloud would add to ``inputs`` for a resource of type ``typ``."""
    compute = _RESOURCES.get(typ)
    return compute(name, inputs, region or DEFAULT_REGION) if compute else {}


def call_outputs(token: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """What a data source returns, for the ones the program calls."""
    if token == "aws:eks/getAddonVersion:getAddonVersion":
        # The real lookup returns AWS's default version for the cluster version.
        return {"version": f"{args.get('addonName')}-default-for-{args.get('kubernetesVersion')}"}
    if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        return {"userName": "AWS", "password": "mock-registry-token", "proxyEndpoint": ""}
    if token == "aws:ec2/getVpc:getVpc":
        return {"id": args.get("id"), "cidrBlock": "10.0.0.0/16"}
    return {}
