"""What GCP would compute for the GCP target's resources and data sources, faked for the
offline plan, and the inputs worth showing in its plan tree.

Values are obvious placeholders: project number 123456789012, a control-plane address from a
documentation range (192.0.2.0/24), names ending in ``-mock``. Project and region come from
the target's provider, as ``pulumi up`` would use them. Only outputs the program reads are
faked; a new read shows up as a failing plan, not as a silently wrong value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.targets.spec import OfflineMocks

PROJECT_NUMBER = "123456789012"
CA = "bW9jay1jbHVzdGVyLWNhLWNlcnRpZmljYXRl"
"""base64 of ``mock-cluster-ca-certificate``."""
ACCESS_TOKEN = "mock-generated-secret-gcp-access-token"
"""Carries the engine's mock-secret prefix, so the plan tests prove the token is redacted."""


def _project(provider: Mapping[str, Any]) -> str:
    return str(provider.get("project") or "mock-project")


def _region(provider: Mapping[str, Any]) -> str:
    return str(provider.get("region") or "us-central1")


def _cluster(name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]) -> dict[str, Any]:
    cluster = inputs.get("name", name)
    return {
        "endpoint": "192.0.2.10",
        "masterAuth": {**inputs.get("masterAuth", {}), "clusterCaCertificate": CA},
        "selfLink": f"https://container.googleapis.com/v1/projects/{_project(provider)}/"
        f"locations/{inputs.get('location')}/clusters/{cluster}",
    }


def _account(name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]) -> dict[str, Any]:
    project = _project(provider)
    email = f"{inputs.get('accountId', name)}@{project}.iam.gserviceaccount.com"
    return {
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{project}/serviceAccounts/{email}",
        "uniqueId": "100000000000000000001",
    }


def _sql_instance(
    name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]
) -> dict[str, Any]:
    region = inputs.get("region") or _region(provider)
    return {
        "connectionName": f"{_project(provider)}:{region}:{inputs.get('name', name)}",
        "privateIpAddress": "10.28.0.3",
    }


def _filestore(name: str, inputs: Mapping[str, Any], _: Mapping[str, Any]) -> dict[str, Any]:
    networks = list(inputs.get("networks") or [{}])
    return {"networks": [{**networks[0], "ipAddresses": ["10.30.0.2"]}, *networks[1:]]}


def _repository(
    name: str, inputs: Mapping[str, Any], provider: Mapping[str, Any]
) -> dict[str, Any]:
    location = inputs.get("location") or _region(provider)
    repository = inputs.get("repositoryId", name)
    return {
        "registryUri": f"{location}-docker.pkg.dev/{_project(provider)}/{repository}",
        "name": repository,
    }


MOCKS = OfflineMocks(
    # GKE's load balancers report an IP address, not a host name.
    load_balancer_ip=True,
    resources={
        "gcp:container/cluster:Cluster": _cluster,
        "gcp:serviceaccount/account:Account": _account,
        "gcp:sql/databaseInstance:DatabaseInstance": _sql_instance,
        "gcp:filestore/instance:Instance": _filestore,
        "gcp:artifactregistry/repository:Repository": _repository,
    },
    calls={
        "gcp:organizations/getClientConfig:getClientConfig": lambda _: {
            "accessToken": ACCESS_TOKEN
        },
        "gcp:organizations/getProject:getProject": lambda args: {
            "number": PROJECT_NUMBER,
            "projectId": args.get("projectId", ""),
        },
    },
)

PLAN_FIELDS: Mapping[str, tuple[str, ...]] = {
    "gcp:compute/network:Network": ("name",),
    "gcp:compute/subnetwork:Subnetwork": ("region", "ipCidrRange"),
    "gcp:compute/firewall:Firewall": ("sourceRanges",),
    "gcp:container/cluster:Cluster": ("name", "location", "minMasterVersion", "deletionProtection"),
    "gcp:container/nodePool:NodePool": ("autoscaling", "machineType", "spot"),
    "gcp:sql/databaseInstance:DatabaseInstance": (
        "databaseVersion",
        "tier",
        "edition",
        "ipv4Enabled",
        "sslMode",
    ),
    "gcp:storage/bucket:Bucket": ("name", "publicAccessPrevention", "forceDestroy"),
    "gcp:filestore/instance:Instance": ("tier", "capacityGb"),
    "gcp:artifactregistry/repository:Repository": ("repositoryId",),
    "gcp:serviceaccount/account:Account": ("accountId",),
}
"""Inputs worth a glance in ``pdk plan -s gcp``'s tree, by resource type."""
