"""What an AWS stack can leave behind after ``destroy``, found by tag and confirmed by describe.

Two sources: the Resource Groups Tagging API, queried for our deployment-id tag and for the tags
EKS controllers put on what they create (load balancers, CSI volumes, ENIs), and IAM (global,
listed by name prefix). The tagging API keeps listing deleted resources for minutes to hours
(boto/boto3#3341, aws/aws-sdk#302), so every hit is checked with the owning service's describe
call: gone means a ghost, present means a leak, no check for that type means a leak we could not
confirm. A KMS key pending deletion is gone as far as we can make it (AWS keeps it 7-30 days).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from infra.config.keys import KEYS
from infra.naming import DEPLOYMENT_LABEL
from infra.ops.leaks import Leak, LeakQuery, LeakReport

ClientFactory = Callable[[str, str], Any]
"""(service, region) -> a boto3 client; tests hand in moto-backed or stubbed ones."""

CNI_TAG = "cluster.k8s.amazonaws.com/name"
"""The VPC CNI tags the ENIs it creates with the cluster name."""


def _boto_client(service: str, region: str) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


def _region(query: LeakQuery) -> str:
    for resource in query.state:
        if resource.get("type") == "pulumi:providers:aws":
            region = (resource.get("inputs") or {}).get("region")
            if region:
                return str(region)
    return str(query.config.get("awsRegion") or KEYS["awsRegion"].default)


def _cluster_name(query: LeakQuery) -> str:
    for resource in query.state:
        if resource.get("type") == "aws:eks/cluster:Cluster":
            name = (resource.get("outputs") or {}).get("name")
            if name:
                return str(name)
    # The target's naming rule (infra/targets/aws/target.py), for a stack that never got as
    # far as the cluster: controllers cannot have created anything then, but tags are cheap.
    return f"pdk-{query.deployment_id}-eks"


def _split_arn(arn: str) -> tuple[str, str, str]:
    """``arn:aws:ec2:us-east-2:123:volume/vol-1`` -> ("ec2", "volume", "vol-1")."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5]
    for separator in ("/", ":"):
        if separator in resource:
            kind, _, ident = resource.partition(separator)
            return service, kind, ident
    return service, "", resource


def _missing(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return any(word in code for word in ("NotFound", "NoSuch", "Malformed")) or code in {
        "InvalidGroup.NotFound",
        "DBInstanceNotFound",
        "DBSubnetGroupNotFoundFault",
        "ResourceNotFoundException",
        "RepositoryNotFoundException",
        "FileSystemNotFound",
        "LoadBalancerNotFound",
        "404",
    }


def _exists(
    client: Callable[[str], Any], service: str, kind: str, ident: str, arn: str
) -> bool | None:
    """True/False from the owning service; None when we have no check for this type."""
    ec2 = {
        "instance": lambda c: [
            i
            for r in c.describe_instances(InstanceIds=[ident])["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ],
        "volume": lambda c: c.describe_volumes(VolumeIds=[ident])["Volumes"],
        "security-group": lambda c: c.describe_security_groups(GroupIds=[ident])["SecurityGroups"],
        "network-interface": lambda c: c.describe_network_interfaces(NetworkInterfaceIds=[ident])[
            "NetworkInterfaces"
        ],
        "vpc": lambda c: c.describe_vpcs(VpcIds=[ident])["Vpcs"],
        "subnet": lambda c: c.describe_subnets(SubnetIds=[ident])["Subnets"],
        "internet-gateway": lambda c: c.describe_internet_gateways(InternetGatewayIds=[ident])[
            "InternetGateways"
        ],
        "route-table": lambda c: c.describe_route_tables(RouteTableIds=[ident])["RouteTables"],
        "elastic-ip": lambda c: c.describe_addresses(AllocationIds=[ident])["Addresses"],
        "natgateway": lambda c: [
            g
            for g in c.describe_nat_gateways(NatGatewayIds=[ident])["NatGateways"]
            if g["State"] not in ("deleted", "deleting")
        ],
        "launch-template": lambda c: c.describe_launch_templates(LaunchTemplateIds=[ident])[
            "LaunchTemplates"
        ],
        "vpc-endpoint": lambda c: [
            e
            for e in c.describe_vpc_endpoints(VpcEndpointIds=[ident])["VpcEndpoints"]
            if e["State"].lower() not in ("deleted", "deleting")
        ],
    }
    checks: dict[tuple[str, str], Callable[[Any], Any]] = {
        **{("ec2", key): check for key, check in ec2.items()},
        ("elasticloadbalancing", "loadbalancer"): lambda c: (
            c.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
            if ident.startswith(("app/", "net/", "gwy/"))
            else c.describe_load_balancers(LoadBalancerNames=[ident])["LoadBalancerDescriptions"]
        ),
        ("eks", "cluster"): lambda c: [c.describe_cluster(name=ident)["cluster"]],
        ("eks", "nodegroup"): lambda c: [
            c.describe_nodegroup(clusterName=ident.split("/")[0], nodegroupName=ident.split("/")[1])
        ],
        ("rds", "db"): lambda c: c.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"],
        ("rds", "subgrp"): lambda c: c.describe_db_subnet_groups(DBSubnetGroupName=ident)[
            "DBSubnetGroups"
        ],
        ("s3", ""): lambda c: [c.head_bucket(Bucket=ident)],
        ("elasticfilesystem", "file-system"): lambda c: c.describe_file_systems(FileSystemId=ident)[
            "FileSystems"
        ],
        ("ecr", "repository"): lambda c: c.describe_repositories(repositoryNames=[ident])[
            "repositories"
        ],
        ("kms", "key"): lambda c: [
            k
            for k in [c.describe_key(KeyId=ident)["KeyMetadata"]]
            if k["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion")
        ],
    }
    service_name = {"elasticloadbalancing": "elbv2" if "/" in ident else "elb"}.get(
        service, service
    )
    check = checks.get((service, kind))
    if check is None:
        return None
    try:
        return bool(check(client(service_name)))
    except Exception as error:  # botocore ClientError; its class lives on each client
        if _missing(error):
            return False
        raise


def find_leaks(query: LeakQuery, client_factory: ClientFactory = _boto_client) -> LeakReport:
    """Tagged resources still present in the stack's region, and IAM roles of the stack."""
    region = _region(query)
    cluster = _cluster_name(query)
    report = LeakReport(deployment_id=query.deployment_id, target="aws")
    filters: Sequence[tuple[str, list[str]]] = [
        (DEPLOYMENT_LABEL, [query.deployment_id]),
        # Load balancers, target groups and security groups of the AWS LB controller / cloud
        # provider, CSI volumes with a cluster id, and node resources.
        (f"kubernetes.io/cluster/{cluster}", []),
        ("elbv2.k8s.aws/cluster", [cluster]),
        (CNI_TAG, [cluster]),
    ]
    hits: dict[str, str] = {}
    tagging = client_factory("resourcegroupstaggingapi", region)
    for key, values in filters:
        shown = f"{key}={','.join(values) or '*'}"
        report.queried.append(f"tagging API in {region}: {shown}")
        tag_filter: dict[str, Any] = {"Key": key, **({"Values": values} if values else {})}
        try:
            for page in tagging.get_paginator("get_resources").paginate(TagFilters=[tag_filter]):
                for item in page["ResourceTagMappingList"]:
                    hits.setdefault(item["ResourceARN"], shown)
        except Exception as error:
            report.errors.append(f"tagging API {shown} in {region}: {error}")
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = client_factory(service, region)
        return clients[service]

    for arn, found_by in sorted(hits.items()):
        service, kind, ident = _split_arn(arn)
        try:
            exists = _exists(client, service, kind, ident, arn)
        except Exception as error:
            report.errors.append(f"describe {arn}: {error}")
            continue
        if exists is False:
            report.ghosts.append(arn)
        else:
            report.leaks.append(
                Leak(
                    kind=f"{service}:{kind}" if kind else service,
                    id=arn,
                    location=region,
                    found_by=found_by,
                    confirmed=exists is True,
                    detail="" if exists else "no describe check for this type",
                )
            )
    _iam_roles(query, client_factory, report)
    return report


def _iam_roles(query: LeakQuery, client_factory: ClientFactory, report: LeakReport) -> None:
    """IAM is global and not reliably in the tagging API: list roles by our name prefix."""
    prefix = f"pdk-{query.deployment_id}-"
    report.queried.append(f"IAM roles named {prefix}*")
    try:
        iam = client_factory("iam", "us-east-1")
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                if role["RoleName"].startswith(prefix):
                    report.leaks.append(
                        Leak("iam:role", role["Arn"], "global", f"name {prefix}*", True)
                    )
    except Exception as error:
        report.errors.append(f"IAM list_roles: {error}")
