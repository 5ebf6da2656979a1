"""The AWS target's hooks for `pdk estimate`, `pdk graph` and `pdk preflight`.

Everything is read from the planned resources (node groups, subnets, the RDS instance, the
provider's region), so the estimate and the checks follow the program, whatever config
produced it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from infra.ops.estimate import PriceLine, load_balancer_services
from infra.ops.hooks import Resources, TargetOps
from infra.ops.preflight import Check, MissingCredentials, PreflightContext

HERE = Path(__file__).parent
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"

# EC2 vCPU quotas by instance family (Service Quotas, service code "ec2"): (on-demand, spot).
# Codes as used by Determined's `det deploy` preflight (determined-ai/determined PR #2136) and
# the Service Quotas console; see shared/reference/ci-and-peers.md section 3.1.
_QUOTAS: dict[str, tuple[str, str, str]] = {
    "standard": ("Standard (A, C, D, H, I, M, R, T, Z)", "L-1216C47A", "L-34B43A08"),
    "g": ("G and VT", "L-DB2E81BA", "L-3819A6DF"),
    "p": ("P", "L-417A185B", "L-7212CCBC"),
    "inf": ("Inf", "L-1945791B", "L-B5D1601B"),
    "f": ("F", "L-74FC7D96", "L-88CF9481"),
    "x": ("X", "L-7295265B", "L-E3A00192"),
}
_STANDARD_FAMILIES = set("acdhimrtz")


def quota_family(instance_type: str) -> str | None:
    family = instance_type.split(".", 1)[0].lower()
    # Families with quotas of their own that this table does not carry (Trainium, DL, HPC,
    # Mac, High Memory): reported as unknown rather than counted against "standard".
    if family.startswith(("trn", "dl", "hpc", "mac", "u-", "u7")):
        return None
    if family.startswith("inf"):
        return "inf"
    if family.startswith("vt") or family.startswith("g"):
        return "g"
    letter = family[:1]
    if letter in ("p", "f", "x"):
        return letter
    if letter in _STANDARD_FAMILIES:
        return "standard"
    return None


def region(resources: Resources) -> str | None:
    for resource in resources:
        if resource["type"] == "pulumi:providers:aws":
            value = (resource.get("inputs") or {}).get("region")
            return str(value) if value else None
    return None


def _node_groups(resources: Resources) -> list[Mapping[str, Any]]:
    return [r for r in resources if r["type"] == NODE_GROUP]


def is_gpu_group(group: Mapping[str, Any]) -> bool:
    inputs = group.get("inputs") or {}
    types = inputs.get("instanceTypes") or []
    return "NVIDIA" in str(inputs.get("amiType", "")) or any(
        quota_family(t) in ("g", "p") for t in types
    )


def capacity(resources: Resources) -> list[str]:
    """Node groups that start with at least one node: the first place pods can run."""
    return [
        str(group["name"])
        for group in _node_groups(resources)
        if int((group.get("inputs") or {}).get("scalingConfig", {}).get("minSize", 0)) > 0
    ]


def _root_volume_gb(group: Mapping[str, Any], by_name: Mapping[str, Mapping[str, Any]]) -> int:
    for dep in group.get("dependencies") or []:
        template = by_name.get(dep)
        if template and template["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
            mappings = (template.get("inputs") or {}).get("blockDeviceMappings") or []
            return sum(int((m.get("ebs") or {}).get("volumeSize", 0)) for m in mappings)
    return 0


def price_lines(resources: Resources) -> list[PriceLine]:
    by_name = {str(r["name"]): r for r in resources}
    lines: list[PriceLine] = []
    for resource in resources:
        token, inputs = resource["type"], resource.get("inputs") or {}
        if token == "aws:eks/cluster:Cluster":
            lines.append(PriceLine("EKS control plane", "eks.cluster", 1, 1, "standard support"))
        elif token == NODE_GROUP:
            scaling = inputs.get("scalingConfig") or {}
            low, high = int(scaling.get("minSize", 0)), int(scaling.get("maxSize", 0))
            gpu = is_gpu_group(resource)
            if gpu:
                low = 0  # GPU pools are shown idle; the autoscaler adds nodes for trials
            (instance_type, *_) = inputs.get("instanceTypes") or ["unknown"]
            kind = "GPU" if gpu else "CPU"
            note = (
                "priced on-demand (spot is cheaper and varies)"
                if (inputs.get("capacityType") == "SPOT")
                else ""
            )
            lines.append(
                PriceLine(
                    f"{kind} nodes {resource['name']} ({instance_type})",
                    f"ec2.{instance_type}",
                    low,
                    high,
                    note,
                )
            )
            disk = _root_volume_gb(resource, by_name)
            if disk:
                lines.append(
                    PriceLine(
                        f"{kind} node root volumes ({disk} GB gp3 each)",
                        "ebs.gp3",
                        low * disk,
                        high * disk,
                    )
                )
        elif token == "aws:rds/instance:Instance":
            copies = 2 if inputs.get("multiAz") else 1
            engine = str(inputs.get("engine", "postgres"))
            instance_class = str(inputs.get("instanceClass", "unknown"))
            lines.append(
                PriceLine(
                    f"RDS {engine} {instance_class}" + (" Multi-AZ" if copies == 2 else ""),
                    f"rds.{engine}.{instance_class}",
                    copies,
                    copies,
                )
            )
            storage = int(inputs.get("allocatedStorage", 0)) * copies
            storage_type = str(inputs.get("storageType", "gp3"))
            lines.append(
                PriceLine(f"RDS storage ({storage_type})", f"rds.{storage_type}", storage, storage)
            )
        elif token == "aws:kms/key:Key":
            lines.append(PriceLine(f"KMS key {resource['name']}", "kms.key", 1, 1))
    nats = sum(r["type"] == "aws:ec2/natGateway:NatGateway" for r in resources)
    if nats:
        lines.append(PriceLine("NAT gateways", "vpc.nat_gateway", nats, nats))
    eips = sum(r["type"] == "aws:ec2/eip:Eip" for r in resources)
    if eips:
        lines.append(PriceLine("Elastic IPs (public IPv4)", "vpc.public_ipv4", eips, eips))
    balancers = load_balancer_services(resources)
    if balancers:
        names = ", ".join(sorted({name for name, _ in balancers}))
        lines.append(
            PriceLine(
                f"load balancers for LoadBalancer Services ({names})",
                "elb.classic",
                len(balancers),
                len(balancers),
                "created by the cluster's cloud controller, not by Pulumi",
            )
        )
    return lines


NOT_COUNTED = (
    "data transfer: internet egress, cross-zone traffic, NAT gateway and load-balancer "
    "per-GB processing",
    "usage-based storage: S3 (0.023 USD/GB-month), EFS (0.30 USD/GB-month), ECR "
    "(0.10 USD/GB-month), EBS volumes that claims create later, RDS backups beyond the free "
    "allowance",
    "requests and API calls (S3, KMS, STS), CloudWatch Logs for the EKS audit log",
    "the EKS extended-support fee (0.60 USD/h instead of 0.10) once the Kubernetes version "
    "leaves standard support",
    "public IPv4 addresses of internet-facing load balancers, spot discounts, savings plans, taxes",
)


# --- preflight ------------------------------------------------------------------------------


def _client(ctx: PreflightContext, service: str, region_name: str | None) -> Any:
    if ctx.clients is not None:
        return ctx.clients(service, region_name=region_name)
    import boto3

    return boto3.client(service, region_name=region_name)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def preflight(ctx: PreflightContext) -> Iterator[Check]:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    where = region(ctx.resources)
    if not where:
        yield Check("region", "fail", "the plan names no AWS region", "set awsRegion")
        return
    try:
        identity = _client(ctx, "sts", where).get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise MissingCredentials(
            f"no AWS credentials ({error}): set AWS_PROFILE (after `aws sso login` or "
            "`aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as error:
        raise MissingCredentials(
            f"the AWS credentials were refused ({_error_code(error)}): renew them "
            "(`aws sso login`) or choose another AWS_PROFILE"
        ) from None
    account = str(identity["Account"])
    if ctx.expect_account and ctx.expect_account != account:
        yield Check(
            "credentials",
            "fail",
            f"{identity['Arn']} belongs to account {account}, not {ctx.expect_account}",
            "switch AWS_PROFILE to the expected account",
        )
    else:
        suffix = "" if ctx.expect_account else " (pass --account ID to require one)"
        yield Check("credentials", "pass", f"{identity['Arn']} in account {account}{suffix}")

    ec2 = _client(ctx, "ec2", where)
    yield from _region_and_zones(ec2, where, ctx)
    groups = _node_groups(ctx.resources)
    try:
        yield from _offerings(ec2, where, groups, ctx)
        yield from _quotas(ctx, ec2, where, groups)
    except (ClientError, BotoCoreError) as error:
        yield Check("instance types", "warn", f"could not be checked: {error}", "")
    yield from _kubernetes_version(ctx, where)


def _zones_of(ctx: PreflightContext, group: Mapping[str, Any] | None = None) -> list[str]:
    subnets = {str(s["name"]): s for s in ctx.of_type("aws:ec2/subnet:Subnet")}
    wanted = set(subnets)
    if group is not None:
        wanted = {d for d in group.get("dependencies") or [] if d in subnets}
    return sorted(
        {
            str((subnets[name].get("inputs") or {}).get("availabilityZone"))
            for name in wanted
            if (subnets[name].get("inputs") or {}).get("availabilityZone")
        }
    )


def _region_and_zones(ec2: Any, where: str, ctx: PreflightContext) -> Iterator[Check]:
    regions = {r["RegionName"]: r for r in ec2.describe_regions(AllRegions=True)["Regions"]}
    found = regions.get(where)
    if found is None:
        yield Check("region", "fail", f"{where} is not an AWS region", "set awsRegion")
        return
    if found.get("OptInStatus") == "not-opted-in":
        yield Check(
            "region",
            "fail",
            f"{where} is not enabled for this account",
            f"enable {where} in the account settings (Regions) or choose another awsRegion",
        )
        return
    yield Check("region", "pass", f"{where} is enabled")
    zones = {
        z["ZoneName"]: z
        for z in ec2.describe_availability_zones(AllAvailabilityZones=True)["AvailabilityZones"]
    }
    wanted = _zones_of(ctx)
    if not wanted:
        return  # an existing VPC: its subnets' zones are not in the plan
    missing = [z for z in wanted if z not in zones]
    unavailable = [z for z in wanted if z in zones and zones[z].get("State") != "available"]
    if missing or unavailable:
        detail = "; ".join(
            part
            for part in (
                f"not in {where}: {', '.join(missing)}" if missing else "",
                f"not available: {', '.join(unavailable)}" if unavailable else "",
            )
            if part
        )
        yield Check("zones", "fail", detail, f"set awsAvailabilityZones to zones of {where}")
    else:
        ids = ", ".join(f"{z} ({zones[z].get('ZoneId', '?')})" for z in wanted)
        yield Check("zones", "pass", f"available: {ids}")


def _offerings(
    ec2: Any, where: str, groups: Sequence[Mapping[str, Any]], ctx: PreflightContext
) -> Iterator[Check]:
    for group in groups:
        inputs = group.get("inputs") or {}
        zones = _zones_of(ctx, group) or _zones_of(ctx)
        for instance_type in inputs.get("instanceTypes") or []:
            filters = [{"Name": "instance-type", "Values": [instance_type]}]
            if zones:
                filters.append({"Name": "location", "Values": zones})
            pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
                LocationType="availability-zone", Filters=filters
            )
            offered = {o["Location"] for page in pages for o in page["InstanceTypeOfferings"]}
            name = f"{instance_type} in {group['name']}"
            if not zones:
                if offered:
                    yield Check(name, "pass", f"offered in {len(offered)} zones of {where}")
                else:
                    yield Check(name, "fail", f"not offered in {where}", "choose another type")
                continue
            lacking = [z for z in zones if z not in offered]
            if not lacking:
                yield Check(name, "pass", f"offered in {', '.join(zones)}")
            elif len(lacking) == len(zones):
                yield Check(
                    name,
                    "fail",
                    f"not offered in any of {', '.join(zones)}",
                    "choose another instance type or region (`aws ec2 "
                    "describe-instance-type-offerings --location-type availability-zone`)",
                )
            else:
                yield Check(
                    name,
                    "fail",
                    f"not offered in {', '.join(lacking)}; EKS fails to create a node group "
                    "whose subnets include such a zone",
                    "set awsAvailabilityZones to zones that offer it",
                )


def _quotas(
    ctx: PreflightContext, ec2: Any, where: str, groups: Sequence[Mapping[str, Any]]
) -> Iterator[Check]:
    from botocore.exceptions import ClientError

    types = sorted({t for g in groups for t in (g.get("inputs") or {}).get("instanceTypes") or []})
    if not types:
        return
    vcpus = {
        t["InstanceType"]: int(t["VCpuInfo"]["DefaultVCpus"])
        for t in ec2.describe_instance_types(InstanceTypes=types)["InstanceTypes"]
    }
    need: dict[tuple[str, bool], int] = {}
    for group in groups:
        inputs = group.get("inputs") or {}
        spot = inputs.get("capacityType") == "SPOT"
        high = int((inputs.get("scalingConfig") or {}).get("maxSize", 0))
        (instance_type, *_) = inputs.get("instanceTypes") or [""]
        family = quota_family(instance_type)
        if family is None or instance_type not in vcpus:
            yield Check(f"quota for {instance_type}", "warn", "no vCPU quota known for it")
            continue
        key = (family, spot)
        need[key] = need.get(key, 0) + high * vcpus[instance_type]
    quotas = _client(ctx, "service-quotas", where)
    for (family, spot), wanted in sorted(need.items()):
        label, on_demand_code, spot_code = _QUOTAS[family]
        code = spot_code if spot else on_demand_code
        market = "Spot" if spot else "On-Demand"
        name = f"{market} {label} vCPU quota ({code})"
        try:
            value = float(
                quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"]
            )
        except ClientError as error:
            # An SCP can deny service-quotas while EC2 works (determined-ai/determined#7909).
            yield Check(
                name,
                "warn",
                f"could not be read ({_error_code(error)}); {wanted} vCPUs needed at max size",
                "allow servicequotas:GetServiceQuota, or check the quota in the console",
            )
            continue
        console = f"https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas/{code}"
        if value < wanted:
            yield Check(
                name,
                "fail",
                f"limit {value:g} vCPUs in {where}, the node groups need {wanted} at max size",
                f"request an increase to at least {wanted} ({console}) or lower the max size",
            )
        else:
            yield Check(
                name,
                "pass",
                f"limit {value:g} vCPUs, {wanted} needed at max size (running instances "
                "also count against it)",
            )


def _kubernetes_version(ctx: PreflightContext, where: str) -> Iterator[Check]:
    from botocore.exceptions import BotoCoreError, ClientError

    clusters = ctx.of_type("aws:eks/cluster:Cluster")
    if not clusters:
        return
    wanted = str((clusters[0].get("inputs") or {}).get("version", ""))
    eks = _client(ctx, "eks", where)
    try:
        versions = eks.describe_cluster_versions(clusterVersions=[wanted])["clusterVersions"]
    except (ClientError, BotoCoreError) as error:
        yield Check(f"EKS Kubernetes {wanted}", "warn", f"could not be checked: {error}")
        return
    found = next((v for v in versions if v.get("clusterVersion") == wanted), None)
    if found is None:
        yield Check(
            f"EKS Kubernetes {wanted}",
            "fail",
            f"EKS in {where} does not offer {wanted}",
            "set kubernetesVersion to a version `aws eks describe-cluster-versions` lists",
        )
    elif str(found.get("versionStatus", "")).upper() == "EXTENDED_SUPPORT":
        yield Check(
            f"EKS Kubernetes {wanted}",
            "warn",
            f"{wanted} is in extended support (cluster fee 0.60 USD/h instead of 0.10)",
            "choose a version in standard support",
        )
    else:
        status = found.get("versionStatus") or found.get("status") or "offered"
        yield Check(f"EKS Kubernetes {wanted}", "pass", f"offered ({status})")


OPS = TargetOps(
    create_times=HERE / "create_times.yaml",
    prices=HERE / "prices.yaml",
    region=region,
    price_lines=price_lines,
    not_counted=NOT_COUNTED,
    capacity=capacity,
)


def estimate_hooks() -> TargetOps:
    """``TargetSpec.estimate``: the tables and functions `pdk estimate` and `pdk graph` use."""
    return OPS
