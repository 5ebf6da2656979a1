"""What AWS would compute for a resource or data source, faked for the offline plan, and which
AWS inputs the plan tree shows.

The mock engine echoes a resource's inputs as its outputs, which is not enough for resources
whose computed outputs the program reads: an EKS cluster's OIDC issuer, an RDS address, a node
group's Auto Scaling group. These mocks supply those outputs with obvious placeholder values:
account 123456789012 (AWS's documentation account) and ids ending in ``-mock``. Only outputs the
program reads are faked; a new read shows up as a failing plan, not as a silently wrong value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.targets.spec import OfflineMocks

ACCOUNT = "123456789012"
"""The AWS account of every mocked ARN."""
DEFAULT_REGION = "us-east-2"


def _region(provider: Mapping[str, Any]) -> str:
    return str(provider.get("region") or "") or DEFAULT_REGION


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def _eks_cluster(
    name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]
) -> dict[str, Any]:
    region = _region(provider)
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


def _node_group(
    name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]
) -> dict[str, Any]:
    group = inputs.get("nodeGroupName", name)
    return {
        "arn": _arn(
            "eks", _region(provider), f"nodegroup/{inputs.get('clusterName')}/{group}/mock"
        ),
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-mock"}]}],
    }


def _rds_instance(
    name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]
) -> dict[str, Any]:
    host = f"{inputs.get('identifier', name)}.mock.{_region(provider)}.rds.amazonaws.com"
    return {"address": host, "endpoint": f"{host}:{inputs.get('port', 5432)}"}


def _ecr_repository(
    name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]
) -> dict[str, Any]:
    repository = inputs.get("name", name)
    return {
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{_region(provider)}.amazonaws.com/{repository}",
        "registryId": ACCOUNT,
    }


def _get_addon_version(args: Mapping[str, Any]) -> dict[str, Any]:
    # The real lookup returns AWS's default version for the cluster version.
    return {"version": f"{args.get('addonName')}-default-for-{args.get('kubernetesVersion')}"}


MOCKS = OfflineMocks(
    resources={
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
        "aws:kms/key:Key": lambda name, _, provider: {
            "arn": _arn("kms", _region(provider), f"key/{name}-mock")
        },
        "aws:ec2/launchTemplate:LaunchTemplate": lambda *_: {"latestVersion": 1},
    },
    calls={
        "aws:eks/getAddonVersion:getAddonVersion": _get_addon_version,
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda _: {
            "userName": "AWS",
            "password": "mock-registry-token",
            "proxyEndpoint": "",
        },
        "aws:ec2/getVpc:getVpc": lambda args: {"id": args.get("id"), "cidrBlock": "10.0.0.0/16"},
    },
)

PLAN_FIELDS: dict[str, tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("availabilityZone", "cidrBlock"),
    "aws:eks/cluster:Cluster": ("name", "version"),
    "aws:eks/nodeGroup:NodeGroup": ("instanceTypes", "amiType", "capacityType", "scalingConfig"),
    "aws:eks/addon:Addon": ("addonName",),
    "aws:rds/instance:Instance": (
        "engine",
        "engineVersion",
        "instanceClass",
        "allocatedStorage",
        "publiclyAccessible",
    ),
    "aws:s3/bucket:Bucket": ("bucket", "forceDestroy"),
    "aws:ecr/repository:Repository": ("name",),
    "aws:iam/role:Role": ("name",),
    "aws:efs/fileSystem:FileSystem": ("encrypted", "throughputMode"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "fromPort",
        "cidrIpv4",
        "referencedSecurityGroupId",
    ),
}
"""AWS resource inputs worth showing in the plan tree, by resource type."""
