"""The AWS target's keys (``aws*``): region, network, node groups, RDS, the autoscaler and ECR;
their checks, the rules across them, and the facts they need (the EC2 GPU table).

Imports only pydantic and the shared config package, so config errors stay fast.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from infra import versions
from infra.config.problems import MISSING, Problem, fail, ignored, rm_fix, set_fix, warning
from infra.config.rules import RuleContext
from infra.config.types import Model
from infra.targets.pools import DiskSize, NodeCount, NodePoolConfig, pool_size_problems
from infra.targets.spec import TargetSection
from infra.values import IMAGE, ChartVersion, PinnedImage, source_ranges, split_list

_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
INSTANCE_TYPE = re.compile(
    r"^(?P<family>[a-z]+[0-9]+[a-z-]*[a-z0-9]*)\."
    r"(?P<size>nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(-[0-9]+xl)?)$"
)
_AWS_ID = {
    "vpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
    "subnet": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
}

GPU_INSTANCE_GPUS: dict[str, dict[str, int]] = {
    "g4dn": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "metal": 8,
    },
    "g5": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "g6": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "g6e": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 2,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
}
"""NVIDIA GPUs per x86_64 EC2 instance type that EKS's AL2023 NVIDIA AMI supports, by family
and size. Other families (g4ad has AMD GPUs, g5g is Arm, inf/trn are not GPUs) cannot run the
GPU node group."""


OTHER_PARTITIONS = {
    "us-gov-": "aws-us-gov (GovCloud)",
    "cn-": "aws-cn (China)",
    "us-iso": "aws-iso",
}
"""Region prefixes outside the commercial ``aws`` partition, where ARNs (``arn:aws-us-gov:``),
endpoints (``amazonaws.com.cn``) and the EKS AMIs differ; this target writes ``arn:aws:``."""


def _aws_region(value: str) -> str:
    if not _AWS_REGION.match(value):
        raise fail(
            "is not an AWS region",
            "a region code such as us-east-2 or eu-west-1",
            "copy the region code from the AWS console",
        )
    partition = next(
        (name for head, name in OTHER_PARTITIONS.items() if value.startswith(head)), None
    )
    if partition:
        raise fail(
            f"is in the {partition} partition, which this target does not support (its ARNs, "
            "endpoints and AMIs differ from the commercial partition's)",
            "a region of the commercial aws partition, e.g. us-east-2 or eu-west-1",
            "deploy to a commercial region",
        )
    return value


def _instance_type(value: str) -> str:
    if not INSTANCE_TYPE.match(value):
        raise fail(
            "is not an EC2 instance type",
            "FAMILY.SIZE with a size such as large, xlarge, 2xlarge or metal, e.g. m5.2xlarge "
            "or g4dn.xlarge",
            "copy the instance type from the EC2 instance types page",
        )
    return value


def is_graviton(family: str) -> bool:
    """Arm (Graviton) families carry a ``g`` after the generation digit (m7g, c6gn, t4g,
    x2gd), or are the first Graviton, a1. The node groups run x86_64 AMIs."""
    attributes = re.sub(r"^[a-z]+[0-9]+", "", family)
    return family == "a1" or "g" in attributes


RDS_POSTGRES_FAMILIES = (
    "t3", "t4g", "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6idn", "m6in", "m7g", "m7i",
    "m8g", "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7g", "r7i",
    "r8g", "x2g", "x2iedn",
)  # fmt: skip
"""Instance class families RDS for PostgreSQL offers (db.<family>.<size>), after the RDS user
guide's table of DB instance classes by engine."""


def _db_instance_class(value: str) -> str:
    match = re.fullmatch(r"db\.(?P<family>[a-z0-9]+)\.(?P<size>[a-z0-9]+)", value)
    sizes = r"micro|small|medium|large|xlarge|[1-9][0-9]*xlarge"
    if (
        not match
        or match["family"] not in RDS_POSTGRES_FAMILIES
        or not re.fullmatch(sizes, match["size"])
    ):
        raise fail(
            "is not an RDS for PostgreSQL instance class",
            "db.FAMILY.SIZE with FAMILY one of " + ", ".join(RDS_POSTGRES_FAMILIES),
            "pick a class from the RDS instance class table, e.g. db.m6g.large",
        )
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise fail(
            "is not a network in CIDR notation",
            "ADDRESS/PREFIX with host bits zero, e.g. 10.0.0.0/16",
            "write the range as ADDRESS/PREFIX",
        ) from None
    if network.version != 4 or not 16 <= network.prefixlen <= 20:
        raise fail(
            "is not an IPv4 range of size /16 to /20",
            "an IPv4 CIDR from /16 to /20 (three private /19-/23 subnets and three public ones "
            "are carved from it)",
            "use a /16 such as 10.0.0.0/16",
        )
    return value


def _id_list(kind: str) -> Any:
    def check(value: str) -> str:
        items = split_list(value)
        bad = [item for item in items if not _AWS_ID[kind].match(item)]
        if bad:
            raise fail(
                f"contains {bad[0]!r}, which is not a {kind} id",
                f"comma-separated ids such as {kind}-0123456789abcdef0",
                f"copy the {kind} ids from the VPC console",
            )
        return ",".join(items)

    return check


def _aws_id(kind: str) -> Any:
    def check(value: str) -> str:
        if value and not _AWS_ID[kind].match(value):
            raise fail(
                f"is not a {kind} id",
                f"{kind}-<hex>, e.g. {kind}-0123456789abcdef0",
                f"copy the {kind} id from the VPC console",
            )
        return value

    return check


def _engine_version(value: str) -> str:
    if not re.match(r"^[0-9]+(\.[0-9]+)?$", value):
        raise fail(
            "is not a Postgres engine version",
            "MAJOR or MAJOR.MINOR, e.g. 16 or 16.6",
            "give the major version; minor upgrades are applied by RDS",
        )
    return value


def _keep_count(value: int) -> int:
    if not 1 <= value <= 1000:
        raise fail("is not an image count", "1 to 1000", "set how many images to keep")
    return value


AwsRegion = Annotated[str, AfterValidator(_aws_region)]
InstanceType = Annotated[str, AfterValidator(_instance_type)]
VpcCidr = Annotated[str, AfterValidator(_cidr)]
VpcId = Annotated[str, AfterValidator(_aws_id("vpc"))]
SubnetIds = Annotated[str, AfterValidator(_id_list("subnet"))]
EngineVersion = Annotated[str, AfterValidator(_engine_version)]
DbInstanceClass = Annotated[str, AfterValidator(_db_instance_class)]
KeepCount = Annotated[int, AfterValidator(_keep_count)]


class AwsCpuPool(NodePoolConfig):
    """The CPU node group: the platform's services and CPU tasks."""

    instance_type: InstanceType = Field(
        "m5.2xlarge",
        description="Instance type of the CPU node group.",
    )
    min_size: NodeCount = Field(
        1,
        description="Fewest CPU nodes; at least 1, since the platform's services run there.",
    )
    desired_size: NodeCount = Field(
        2,
        description="CPU nodes at creation; the cluster-autoscaler owns the count afterwards.",
    )
    max_size: NodeCount = Field(4, description="Most CPU nodes the autoscaler may run.")
    disk_size: DiskSize = Field(
        200,
        description="Root volume of each CPU node in GiB (gp3, encrypted); holds images and "
        "MLDM's local cache.",
    )


class AwsGpuPool(NodePoolConfig):
    """The GPU node group (created only with gpuEnabled)."""

    instance_type: InstanceType = Field(
        "g4dn.xlarge",
        description="Instance type of the GPU node group: an NVIDIA x86_64 type (g4dn, g5, g6, "
        "g6e, p3, p4d, p5 families).",
    )
    min_size: NodeCount = Field(
        0,
        description="Fewest GPU nodes; 0 lets the group scale to zero when no task needs a GPU.",
    )
    desired_size: NodeCount = Field(
        0,
        description="GPU nodes at creation; the cluster-autoscaler owns the count afterwards.",
    )
    max_size: NodeCount = Field(2, description="Most GPU nodes the autoscaler may run.")
    disk_size: DiskSize = Field(
        200,
        description="Root volume of each GPU node in GiB (gp3, encrypted); GPU task images are "
        "large.",
    )
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(
        "ON_DEMAND",
        description="ON_DEMAND, or SPOT: cheaper, but a node can be reclaimed mid-trial (MLDE "
        "resumes from the last checkpoint).",
    )


class AwsConfig(Model):
    """The AWS target: a VPC, EKS with CPU and GPU node groups, S3, RDS, EFS and ECR."""

    @property
    def zones(self) -> list[str]:
        """``availability_zones``, or the region's a, b and c when it is empty."""
        return split_list(self.availability_zones) or [f"{self.region}{c}" for c in "abc"]

    region: AwsRegion = Field("us-east-2", description="AWS region of every resource.")
    availability_zones: str = Field(
        "",
        description="Comma-separated availability zones of a new VPC (2 to 6, all in awsRegion). "
        "Empty: the region's a, b and c zones.",
    )
    vpc_cidr: VpcCidr = Field(
        "10.0.0.0/16",
        description="IPv4 range of a new VPC (/16 to /20). Pods take VPC addresses (VPC CNI), "
        "so prefer a /16.",
    )
    nat_gateways: Literal["perAz", "single"] = Field(
        "perAz",
        description="perAz: one NAT gateway per zone, so losing a zone keeps the others online. "
        "single: one NAT gateway for the VPC, cheaper, but a zone outage cuts every node's "
        "egress.",
    )
    existing_vpc_id: VpcId = Field(
        "",
        description="Deploy into this VPC instead of creating one; needs awsPrivateSubnetIds "
        "and awsPublicSubnetIds.",
    )
    private_subnet_ids: SubnetIds = Field(
        "",
        description="Comma-separated private subnets of awsExistingVpcId (at least 2, in "
        "different zones, with a route to a NAT gateway): nodes, RDS and EFS go here.",
    )
    public_subnet_ids: SubnetIds = Field(
        "",
        description="Comma-separated public subnets of awsExistingVpcId: load balancers go here. "
        "They are tagged for load balancer discovery.",
    )
    api_access_cidrs: str = Field(
        "",
        description="Comma-separated CIDRs allowed to reach the EKS API endpoint from outside "
        "the VPC (your address or VPN range; pulumi up runs from there). Required on aws; "
        "0.0.0.0/0 is accepted only when written out.",
    )
    cpu: AwsCpuPool = Field(default_factory=AwsCpuPool)
    gpu: AwsGpuPool = Field(default_factory=AwsGpuPool)
    db_instance_class: DbInstanceClass = Field(
        "db.m6g.large",
        description="RDS instance class of the Postgres server.",
    )
    db_engine_version: EngineVersion = Field(
        "16",
        description="RDS PostgreSQL major version (minor upgrades are automatic). 13, which the "
        "PDK guides used, left RDS standard support in February 2026.",
    )
    db_storage_size: DiskSize = Field(100, description="RDS storage in GiB (gp3, encrypted).")
    db_multi_az: bool = Field(
        False,
        description="Run a standby in a second zone: survives a zone outage, costs twice as much.",
    )
    cluster_autoscaler_chart_version: ChartVersion = Field(
        versions.CLUSTER_AUTOSCALER_CHART.version,
        description="Version of the kubernetes/autoscaler cluster-autoscaler Helm chart.",
    )
    cluster_autoscaler_image: PinnedImage = Field(
        versions.CLUSTER_AUTOSCALER_IMAGE.version,
        description="cluster-autoscaler image; its MAJOR.MINOR must equal kubernetesVersion.",
    )
    ecr_keep_images: KeepCount = Field(
        30,
        description="Tagged images each ECR repository keeps; older ones expire. Untagged "
        "images expire after a day.",
    )


Context = RuleContext[AwsConfig]


def pool_sizes(ctx: Context) -> list[Problem]:
    aws = ctx.section
    return [
        *pool_size_problems(ctx.stack, aws.cpu, "awsCpu"),
        *pool_size_problems(ctx.stack, aws.gpu, "awsGpu"),
    ]


def cpu_floor(ctx: Context) -> list[Problem]:
    """The CPU group runs what scales the cluster; it cannot scale itself up from zero."""
    if ctx.section.cpu.min_size != 0:
        return []
    return [
        Problem(
            "awsCpuMinSize",
            0,
            "is 0, but the CPU group runs the platform's services and the autoscaler itself",
            "1 or more",
            set_fix(ctx.stack, "awsCpuMinSize", "1"),
        )
    ]


def cpu_group_is_x86(ctx: Context) -> list[Problem]:
    """The CPU group runs the AL2023 x86_64 AMI and the platform's amd64-only images."""
    cpu_type = ctx.section.cpu.instance_type
    match = INSTANCE_TYPE.match(cpu_type)
    if not match or not is_graviton(match["family"]):
        return []
    return [
        Problem(
            "awsCpuInstanceType",
            cpu_type,
            "is an Arm (Graviton) type, but the CPU group runs x86_64 nodes (the platform's "
            "images are amd64 only)",
            "an x86_64 type, e.g. m5.2xlarge, m6i.2xlarge or m7i.2xlarge",
            set_fix(ctx.stack, "awsCpuInstanceType", "m6i.2xlarge"),
        )
    ]


def api_open_to_the_internet(ctx: Context) -> list[Problem]:
    access = ctx.section.api_access_cidrs
    everyone = [cidr for cidr in split_list(access) if cidr in ("0.0.0.0/0", "::/0")]
    if not everyone:
        return []
    return [
        warning(
            "awsApiAccessCidrs",
            access,
            f"{everyone[0]} lets anyone on the internet reach the EKS API endpoint (requests "
            "still need AWS credentials, but the endpoint is open to scans and exploits)",
            "your address or VPN range, e.g. 203.0.113.7/32",
            set_fix(ctx.stack, "awsApiAccessCidrs", "<your-ip>/32"),
        )
    ]


def existing_vpc_subnets(ctx: Context) -> list[Problem]:
    aws = ctx.section
    if not aws.existing_vpc_id:
        return []
    problems: list[Problem] = []
    for key, ids, least in (
        ("awsPrivateSubnetIds", split_list(aws.private_subnet_ids), 2),
        ("awsPublicSubnetIds", split_list(aws.public_subnet_ids), 1),
    ):
        if len(ids) < least:
            problems.append(
                Problem(
                    key,
                    ctx.raw.get(key, MISSING),
                    f"lists {len(ids)} subnet(s), but awsExistingVpcId needs at least {least}",
                    f"{least} or more subnet ids of that VPC"
                    + (" in different zones" if least > 1 else ""),
                    set_fix(ctx.stack, key, "subnet-aaa,subnet-bbb"),
                )
            )
    return problems


def vpc_choice_unused_keys(ctx: Context) -> list[Problem]:
    """Keys of the VPC choice not made: new-VPC shape with an existing VPC, and vice versa."""
    if ctx.section.existing_vpc_id:
        return [
            Problem(
                key,
                ctx.raw[key],
                "is set but awsExistingVpcId is too, so it would be ignored (it shapes a new "
                "VPC only)",
                "unset with awsExistingVpcId",
                rm_fix(ctx.stack, key),
            )
            for key in ("awsVpcCidr", "awsAvailabilityZones", "awsNatGateways")
            if ctx.is_set(key)
        ]
    return [
        Problem(
            key,
            ctx.raw[key],
            "is set but awsExistingVpcId is not, so it would be ignored",
            "unset when a new VPC is created",
            f"set awsExistingVpcId, or: {rm_fix(ctx.stack, key)}",
        )
        for key in ("awsPrivateSubnetIds", "awsPublicSubnetIds")
        if ctx.is_set(key)
    ]


def rds_ca_shipped(ctx: Context) -> list[Problem]:
    """Database clients verify RDS against the region's CA, which the stack ships."""
    from infra.targets.aws.rds_ca import regions

    region = ctx.section.region
    shipped = regions()
    if region in shipped:
        return []
    return [
        Problem(
            "awsRegion",
            region,
            "has no RDS CA certificate shipped with this project, so database clients could "
            "not verify the server",
            ", ".join(shipped),
            "add infra/targets/aws/rds-ca/<region>.pem from AWS's RDS certificate bundle, or "
            + set_fix(ctx.stack, "awsRegion", "us-east-2"),
        )
    ]


def zones_in_region(ctx: Context) -> list[Problem]:
    aws = ctx.section
    zones = split_list(aws.availability_zones)
    if aws.existing_vpc_id or not zones:
        return []
    region = aws.region
    example = f"{region}a,{region}b,{region}c"
    fix = set_fix(ctx.stack, "awsAvailabilityZones", example)
    wrong = [zone for zone in zones if not re.fullmatch(rf"{re.escape(region)}[a-z]", zone)]
    if wrong:
        return [
            Problem(
                "awsAvailabilityZones",
                ctx.raw.get("awsAvailabilityZones"),
                f"names {wrong[0]!r}, which is not a zone of region {region}",
                f"zones named {region} plus a letter, e.g. {region}a",
                fix,
            )
        ]
    if not 2 <= len(set(zones)) == len(zones) <= 6:
        return [
            Problem(
                "awsAvailabilityZones",
                ctx.raw.get("awsAvailabilityZones"),
                "must name 2 to 6 different zones (EKS needs subnets in two or more)",
                f"e.g. {example}",
                fix,
            )
        ]
    return []


def api_access(ctx: Context) -> list[Problem]:
    """The EKS endpoint is public only to the ranges the stack names."""
    access = ctx.section.api_access_cidrs
    if not access:
        return [
            Problem(
                "awsApiAccessCidrs",
                MISSING,
                "is required on aws: the EKS API endpoint is closed to the internet unless you "
                "name who may reach it",
                "comma-separated CIDRs, e.g. 203.0.113.7/32 for your address",
                set_fix(ctx.stack, "awsApiAccessCidrs", "<your-ip>/32"),
            )
        ]
    try:
        source_ranges(access)
    except PydanticCustomError as error:
        context = error.context or {}
        return [
            Problem(
                "awsApiAccessCidrs", access, error.message(), context["allowed"], context["fix"]
            )
        ]
    return []


def gpu_instance_facts(ctx: Context) -> list[Problem]:
    """The GPU group's type must carry NVIDIA GPUs, and enough of them for one task pod."""
    if not ctx.config.gpu.enabled:
        return []
    gpu_type = ctx.section.gpu.instance_type
    match = INSTANCE_TYPE.match(gpu_type)
    if not match:
        return []
    family, size = match["family"], match["size"]
    sizes_known = GPU_INSTANCE_GPUS.get(family)
    if sizes_known is None:
        return [
            Problem(
                "awsGpuInstanceType",
                gpu_type,
                f"has no NVIDIA GPU (family {family} is not a GPU family the EKS NVIDIA AMI runs)",
                ", ".join(f"{known}.*" for known in GPU_INSTANCE_GPUS),
                set_fix(ctx.stack, "awsGpuInstanceType", "g4dn.xlarge")
                + f", or: pulumi config set gpuEnabled false --stack {ctx.stack}",
            )
        ]
    if size not in sizes_known:
        return [
            Problem(
                "awsGpuInstanceType",
                gpu_type,
                f"is not a size of the {family} family",
                ", ".join(f"{family}.{known}" for known in sizes_known),
                set_fix(ctx.stack, "awsGpuInstanceType", f"{family}.xlarge"),
            )
        ]
    gpus = sizes_known[size]
    slots = ctx.config.mlde.max_slots_per_pod
    if isinstance(slots, int) and slots > gpus:
        return [
            Problem(
                "mldeMaxSlotsPerPod",
                slots,
                f"exceeds the {gpus} GPU(s) of one {gpu_type} node, so such a task could never "
                "be scheduled",
                f"1 to {gpus}",
                set_fix(ctx.stack, "mldeMaxSlotsPerPod", str(gpus)),
            )
        ]
    return []


def unused_gpu_pool_keys(ctx: Context) -> list[Problem]:
    if ctx.config.gpu.enabled:
        return []
    keys = (
        "awsGpuInstanceType",
        "awsGpuMinSize",
        "awsGpuDesiredSize",
        "awsGpuMaxSize",
        "awsGpuDiskSize",
        "awsGpuCapacityType",
    )
    allowed = "unset while gpuEnabled is false"
    return [ignored(ctx.stack, key, ctx.raw[key], allowed) for key in keys if ctx.is_set(key)]


def autoscaler_minor(ctx: Context) -> list[Problem]:
    """cluster-autoscaler supports exactly one Kubernetes minor: its own."""
    image_ref = ctx.section.cluster_autoscaler_image
    version = ctx.config.kubernetes_version
    image = IMAGE.match(image_ref)
    minor = re.match(r"^v?([0-9]+\.[0-9]+)\.", image["tag"] or "") if image else None
    if not minor or minor[1] == version:
        return []
    return [
        Problem(
            "awsClusterAutoscalerImage",
            image_ref,
            f"is cluster-autoscaler {minor[1]}, but the cluster runs Kubernetes {version} "
            "(the autoscaler's minor version must match the cluster's)",
            f"a {version}.x tag",
            set_fix(
                ctx.stack,
                "awsClusterAutoscalerImage",
                f"registry.k8s.io/autoscaling/cluster-autoscaler:v{version}.<patch>",
            ),
        )
    ]


SECTION = TargetSection(
    target="aws",
    prefix="aws",
    model=AwsConfig,
    rules=(
        pool_sizes,
        cpu_floor,
        cpu_group_is_x86,
        existing_vpc_subnets,
        vpc_choice_unused_keys,
        zones_in_region,
        rds_ca_shipped,
        api_access,
        api_open_to_the_internet,
        gpu_instance_facts,
        unused_gpu_pool_keys,
        autoscaler_minor,
    ),
)
"""The AWS target's keys, all named ``aws*``."""
