"""The GCP target's keys, checks and facts: the ``gcp*`` section of a stack's config.

Imports only pydantic and the shared config package (no ``pulumi_gcp``), so ``pdk --help`` and
config errors stay fast. Facts that need the cloud (zones that offer an accelerator, quota) are
left to ``pulumi up``; the tables here catch the combinations that can never work.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from infra import versions
from infra.config.problems import MISSING, Problem, fail, ignored, rm_fix, set_fix, warning
from infra.config.rules import RuleContext
from infra.config.types import Model
from infra.placeholders import placeholder
from infra.targets.pools import DiskSize, NodeCount, NodePoolConfig
from infra.targets.pools import pool_size_problems as _pool_sizes
from infra.targets.spec import TargetSection
from infra.values import source_ranges, split_list

_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+[0-9]+)-[a-z]$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_MACHINE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_DB_VERSION = re.compile(r"^POSTGRES_(1[4-9])$")

GPU_MACHINES: Mapping[str, tuple[str, tuple[int, ...]]] = {
    # T4 attaches to N1 machines: 1, 2 or 4 per VM.
    **{f"n1-standard-{n}": ("nvidia-tesla-t4", (1, 2, 4)) for n in (4, 8, 16, 32)},
    **{f"n1-highmem-{n}": ("nvidia-tesla-t4", (1, 2, 4)) for n in (4, 8, 16, 32)},
    # L4, A100 and H100 come bundled with their machine type: the count is the machine's.
    **{f"g2-standard-{n}": ("nvidia-l4", (1,)) for n in (4, 8, 12, 16, 32)},
    "g2-standard-24": ("nvidia-l4", (2,)),
    "g2-standard-48": ("nvidia-l4", (4,)),
    "g2-standard-96": ("nvidia-l4", (8,)),
    **{f"a2-highgpu-{n}g": ("nvidia-tesla-a100", (n,)) for n in (1, 2, 4, 8)},
    "a2-megagpu-16g": ("nvidia-tesla-a100", (16,)),
    **{f"a2-ultragpu-{n}g": ("nvidia-a100-80gb", (n,)) for n in (1, 2, 4, 8)},
    "a3-highgpu-8g": ("nvidia-h100-80gb", (8,)),
    "a3-megagpu-8g": ("nvidia-h100-mega-80gb", (8,)),
}
"""GPU machine types GKE node pools run: machine type -> (accelerator type, GPUs per VM it
takes). Source: Compute Engine's GPU machine types page, and GoogleCloudPlatform/
accelerated-platforms' node pools (T4/N1, L4/G2, A100/A2, H100/A3)."""

FILESTORE_MIN_GIB: Mapping[str, int] = {
    "BASIC_HDD": 1024,
    "BASIC_SSD": 2560,
    "ZONAL": 1024,
    "REGIONAL": 1024,
    "ENTERPRISE": 1024,
}
"""Smallest share each Filestore tier accepts (Filestore service tiers page)."""
FILESTORE_MAX_GIB = 65433
GKE_GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
"""The taint GKE puts on GPU nodes itself."""
MAX_DEPLOYMENT_ID = 17
"""Google service account ids are at most 30 characters: ``pdk-<id>-sqlproxy``."""


def _project(value: str) -> str:
    if value and not _PROJECT.match(value):
        raise fail(
            "is not a project id",
            "6 to 30 lowercase letters, digits and hyphens, starting with a letter",
            "use the project ID (not its name or number): gcloud projects list",
        )
    return value


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise fail(
            "is not a GCP region", "e.g. us-central1, europe-west4", "gcloud compute regions list"
        )
    return value


def _zone(value: str) -> str:
    if not _ZONE.match(value):
        raise fail("is not a GCP zone", "e.g. us-central1-c", "gcloud compute zones list")
    return value


def _machine(value: str) -> str:
    if not _MACHINE.match(value):
        raise fail(
            "is not a machine type",
            "e.g. e2-standard-8, n1-standard-8",
            "gcloud compute machine-types list",
        )
    return value


def _name(value: str) -> str:
    if value and not _NAME.match(value):
        raise fail(
            "is not a GCP resource name",
            "lowercase letters, digits and hyphens, starting with a letter, at most 63",
            "give the name, not the self link",
        )
    return value


def _ipv4_range(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        network = None
    if not isinstance(network, ipaddress.IPv4Network) or not network.is_private:
        raise fail(
            "is not a private IPv4 range in CIDR notation",
            "an RFC 1918 range with host bits zero, e.g. 10.10.0.0/20",
            "write it as ADDRESS/PREFIX",
        )
    return value


def _db_version(value: str) -> str:
    if not _DB_VERSION.match(value):
        raise fail(
            "is not a supported Cloud SQL PostgreSQL version",
            "POSTGRES_14 to POSTGRES_17 (16 is the default and what the AWS target runs)",
            "e.g. POSTGRES_16",
        )
    return value


Project = Annotated[str, AfterValidator(_project)]
Region = Annotated[str, AfterValidator(_region)]
Zone = Annotated[str, AfterValidator(_zone)]
MachineType = Annotated[str, AfterValidator(_machine)]
ResourceName = Annotated[str, AfterValidator(_name)]
Ipv4Range = Annotated[str, AfterValidator(_ipv4_range)]
DbVersion = Annotated[str, AfterValidator(_db_version)]


class GcpCpuPool(NodePoolConfig):
    """The CPU pool: the platform's services and CPU tasks."""

    instance_type: MachineType = Field("e2-standard-8", description="Machine type of the CPU pool.")
    min_size: NodeCount = Field(
        1, description="Fewest CPU nodes; at least 1, since the platform's services run there."
    )
    desired_size: NodeCount = Field(
        2, description="CPU nodes at creation; GKE's autoscaler owns the count afterwards."
    )
    max_size: NodeCount = Field(4, description="Most CPU nodes the autoscaler may run.")
    disk_size: DiskSize = Field(
        200, description="Boot disk of each CPU node in GB (pd-balanced); holds images."
    )


class GcpGpuPool(NodePoolConfig):
    """The GPU pool: MLDE's gpu-pool tasks. GKE installs the driver and device plugin."""

    instance_type: MachineType = Field(
        "n1-standard-8",
        description="Machine type of the GPU pool: n1-* with T4, g2-* (L4), a2-* (A100), "
        "a3-* (H100).",
    )
    min_size: NodeCount = Field(
        0, description="Fewest GPU nodes; 0 lets the pool scale to zero when no task needs a GPU."
    )
    desired_size: NodeCount = Field(0, description="GPU nodes at creation.")
    max_size: NodeCount = Field(2, description="Most GPU nodes the autoscaler may run.")
    disk_size: DiskSize = Field(
        200, description="Boot disk of each GPU node in GB (pd-balanced); GPU images are large."
    )
    accelerator_type: str = Field(
        "nvidia-tesla-t4",
        description="GPU type of the pool (nvidia-tesla-t4, nvidia-l4, nvidia-tesla-a100, "
        "nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h100-mega-80gb); must be one the machine "
        "type takes.",
    )
    accelerator_count: int = Field(
        1, description="GPUs per node; bundled machine types (g2, a2, a3) fix it."
    )
    spot: bool = Field(
        False,
        description="Spot VMs: much cheaper, but a node can be reclaimed mid-trial (MLDE resumes "
        "from the last checkpoint); they use the separate PREEMPTIBLE GPU quota.",
    )


class GcpConfig(Model):
    """The GCP target: a VPC, GKE Standard with CPU and GPU pools, Cloud SQL, GCS, Filestore
    and Artifact Registry, in one project."""

    project: Project = Field(
        "",
        description="ID of the GCP project everything is created in; never read from the "
        "environment. Required on gcp.",
    )
    region: Region = Field(
        "us-central1", description="Region of the subnet, Cloud SQL, buckets and registry."
    )
    zone: Zone = Field(
        "us-central1-c",
        description="Zone of a zonal cluster, of the GPU pool and of Filestore; in gcpRegion. "
        "us-central1-c offers T4, L4, A100 and H100.",
    )
    regional: bool = Field(
        False,
        description="A regional control plane (99.95% SLA) instead of a zonal one (99.5%, and "
        "covered by GKE's free tier). The CPU pool then spans the region's zones.",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        "REGULAR",
        description="GKE release channel; kubernetesVersion is the control plane's minimum.",
    )
    api_access_cidrs: str = Field(
        "",
        description="Comma-separated CIDRs allowed to reach the GKE API endpoint (your address or "
        "VPN range; pulumi up runs from there). Required on gcp; 0.0.0.0/0 is accepted only "
        "when written out, with a warning.",
    )
    node_cidr: Ipv4Range = Field("10.10.0.0/20", description="Node range of a new subnet.")
    pods_cidr: Ipv4Range = Field(
        "10.20.0.0/14", description="Pod range (secondary range 'pods') of a new subnet."
    )
    services_cidr: Ipv4Range = Field(
        "10.24.0.0/20", description="Service range (secondary range 'services') of a new subnet."
    )
    psa_cidr: Ipv4Range = Field(
        "10.28.0.0/20",
        description="Range reserved in a new VPC for Private Service Access (Cloud SQL's "
        "private IP).",
    )
    control_plane_cidr: Ipv4Range = Field(
        "172.16.0.0/28",
        description="/28 of the control plane's private endpoint; the only source admitted to "
        "the webhook ports on nodes.",
    )
    existing_network: ResourceName = Field(
        "",
        description="Use this VPC (name) instead of creating one. It needs Cloud NAT, Private "
        "Service Access, and gcpExistingSubnetwork with Private Google Access.",
    )
    existing_subnetwork: ResourceName = Field(
        "", description="Subnet of gcpExistingNetwork in gcpRegion for the nodes."
    )
    existing_pods_range: ResourceName = Field(
        "", description="Secondary range name of gcpExistingSubnetwork for pods."
    )
    existing_services_range: ResourceName = Field(
        "", description="Secondary range name of gcpExistingSubnetwork for Services."
    )
    cpu: GcpCpuPool = Field(default_factory=GcpCpuPool)
    gpu: GcpGpuPool = Field(default_factory=GcpGpuPool)
    db_version: DbVersion = Field("POSTGRES_16", description="Cloud SQL PostgreSQL version.")
    db_tier: str = Field(
        "db-custom-2-7680",
        description="Cloud SQL machine tier: db-custom-<vCPUs>-<MiB> (ENTERPRISE) or "
        "db-perf-optimized-N-<vCPUs> (ENTERPRISE_PLUS).",
    )
    db_edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] = Field(
        "ENTERPRISE",
        description="Cloud SQL edition, set explicitly: PostgreSQL 16 otherwise defaults to "
        "ENTERPRISE_PLUS, which rejects db-custom tiers.",
    )
    db_disk_size: DiskSize = Field(
        20, description="Initial Cloud SQL SSD size in GB; it grows automatically."
    )
    db_high_availability: bool = Field(
        False,
        description="A standby in a second zone (REGIONAL availability); twice the cost.",
    )
    filestore_tier: Literal["BASIC_HDD", "BASIC_SSD", "ZONAL", "REGIONAL", "ENTERPRISE"] = Field(
        "BASIC_HDD",
        description="Filestore tier of the shared filesystem. BASIC_HDD 1 TiB, the smallest, "
        "costs about $200 a month.",
    )
    filestore_capacity: int = Field(
        1024, description="Filestore share size in GiB, at least the tier's minimum."
    )
    registry_keep_images: int = Field(
        30, ge=1, le=1000, description="Tagged versions each image keeps in Artifact Registry."
    )

    @property
    def location(self) -> str:
        """Where the cluster lives: the region when regional, else the zone."""
        return self.region if self.regional else self.zone

    @property
    def gpus_per_node(self) -> int:
        return self.gpu.accelerator_count


def _problem(key: str, value: object, reason: str, allowed: str, fix: str) -> Problem:
    return Problem(key, value, reason, allowed, fix)


def project_named(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    if ctx.section.project:
        return []
    return [
        _problem(
            "gcpProject",
            MISSING,
            "is required on gcp: the project is never taken from gcloud's or the environment's "
            "default",
            "a project ID (gcloud projects list)",
            set_fix(ctx.stack, "gcpProject", "<project-id>"),
        )
    ]


PLACEHOLDER_PROJECTS = frozenset(
    {
        "pdk-demo-project",  # the committed stacks/Pulumi.gcp.yaml
        "my-project",
        "my-project-id",
        "your-project",
        "your-project-id",
        "project-id",
        "example-project",
        "sample-project",
        "test-project",
    }
)
"""Project ids that guides and this repository write where the user's own belongs."""


def project_not_placeholder(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    """A placeholder project fails at the first API call of `pulumi up` (it is someone else's,
    or no one's): a warning offline, an error when deploying (``infra.placeholders``)."""
    project = ctx.section.project
    if project not in PLACEHOLDER_PROJECTS:
        return []
    what = f"{project} is a placeholder project id, not one of yours"
    allowed = "a project id of yours (gcloud projects list)"
    return [placeholder(ctx.stack, "gcpProject", project, what, "<project-id>", allowed)]


def zone_in_region(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    gcp = ctx.section
    match = _ZONE.match(gcp.zone)
    if match and match["region"] != gcp.region:
        return [
            _problem(
                "gcpZone",
                gcp.zone,
                f"is a zone of region {match['region']}, not of gcpRegion {gcp.region}",
                f"a zone of {gcp.region}, e.g. {gcp.region}-c",
                set_fix(ctx.stack, "gcpZone", f"{gcp.region}-c")
                + f", or set gcpRegion {match['region']}",
            )
        ]
    return []


def api_access_named(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    access = ctx.section.api_access_cidrs
    if not access:
        return [
            _problem(
                "gcpApiAccessCidrs",
                MISSING,
                "is required on gcp: the GKE API endpoint is closed to the internet unless you "
                "name who may reach it",
                "comma-separated CIDRs, e.g. 203.0.113.7/32 for your address",
                set_fix(ctx.stack, "gcpApiAccessCidrs", "<your-ip>/32"),
            )
        ]
    try:
        source_ranges(access)
    except PydanticCustomError as error:
        context = error.context or {}
        return [
            _problem(
                "gcpApiAccessCidrs",
                access,
                error.message(),
                str(context.get("allowed", "")),
                str(context.get("fix", "")),
            )
        ]
    return []


def api_open_to_the_internet(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    """A warning, not an error: a demo may want it, but it should be a decision."""
    access = ctx.section.api_access_cidrs
    everyone = [cidr for cidr in split_list(access) if cidr in ("0.0.0.0/0", "::/0")]
    if not everyone:
        return []
    return [
        warning(
            "gcpApiAccessCidrs",
            access,
            f"{everyone[0]} lets anyone on the internet reach the GKE API endpoint (requests "
            "still need Google credentials, but the endpoint is open to scans and exploits)",
            "your address or VPN range, e.g. 203.0.113.7/32",
            set_fix(ctx.stack, "gcpApiAccessCidrs", "<your-ip>/32"),
        )
    ]


def kubernetes_in_gke_support(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    """A minor past GKE's standard support is upgraded by GKE, or kept at the extended-support
    fee: say so before the cluster exists."""
    version = ctx.config.kubernetes_version
    ends = versions.STANDARD_SUPPORT_ENDS["gke"]
    if version not in ends or ends[version] >= versions.TODAY:
        return []
    current = [v for v, end in ends.items() if end >= versions.TODAY]
    return [
        warning(
            "kubernetesVersion",
            version,
            f"left GKE standard support on {ends[version]}: GKE upgrades such clusters or "
            "charges for extended support",
            f"a minor in standard support: {', '.join(current)}",
            set_fix(ctx.stack, "kubernetesVersion", current[-1] if current else "<minor>"),
        )
    ]


def pool_sizes(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    gcp = ctx.section
    problems = _pool_sizes(ctx.stack, gcp.cpu, "gcpCpu")
    if ctx.config.gpu.enabled:
        problems += _pool_sizes(ctx.stack, gcp.gpu, "gcpGpu")
    return problems


def cpu_floor(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    if ctx.section.cpu.min_size != 0:
        return []
    return [
        _problem(
            "gcpCpuMinSize",
            0,
            "is 0, but the CPU pool runs the platform's services",
            "1 or more",
            set_fix(ctx.stack, "gcpCpuMinSize", "1"),
        )
    ]


def gpu_machine(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    """The accelerator must be one the machine type takes, in a count it takes, and MLDE's
    slots per pod must fit on one node."""
    if not ctx.config.gpu.enabled:
        return []
    pool = ctx.section.gpu
    machine = pool.instance_type
    known = GPU_MACHINES.get(machine)
    if known is None:
        return [
            _problem(
                "gcpGpuInstanceType",
                machine,
                "is not a GPU machine type GKE node pools take",
                "n1-standard-{4,8,16,32} and n1-highmem-* with T4, g2-standard-* (L4), "
                "a2-highgpu-*/a2-megagpu-16g/a2-ultragpu-* (A100), a3-highgpu-8g/a3-megagpu-8g "
                "(H100)",
                set_fix(ctx.stack, "gcpGpuInstanceType", "n1-standard-8")
                + f", or: pulumi config set gpuEnabled false --stack {ctx.stack}",
            )
        ]
    accelerator, counts = known
    problems: list[Problem] = []
    if pool.accelerator_type != accelerator:
        problems.append(
            _problem(
                "gcpGpuAcceleratorType",
                pool.accelerator_type,
                f"is not offered on machine type {machine}, which takes {accelerator}",
                accelerator,
                set_fix(ctx.stack, "gcpGpuAcceleratorType", accelerator),
            )
        )
    elif pool.accelerator_count not in counts:
        problems.append(
            _problem(
                "gcpGpuAcceleratorCount",
                pool.accelerator_count,
                f"is not a GPU count {machine} takes",
                ", ".join(str(c) for c in counts),
                set_fix(ctx.stack, "gcpGpuAcceleratorCount", str(counts[0])),
            )
        )
    else:
        slots = ctx.config.mlde.max_slots_per_pod
        if slots > pool.accelerator_count:
            problems.append(
                _problem(
                    "mldeMaxSlotsPerPod",
                    slots,
                    f"exceeds the {pool.accelerator_count} GPU(s) of one {machine} node, so such "
                    "a task could never be scheduled",
                    f"1 to {pool.accelerator_count}",
                    set_fix(ctx.stack, "mldeMaxSlotsPerPod", str(pool.accelerator_count)),
                )
            )
    return problems


def gpu_taint_is_gkes(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    """GKE taints GPU nodes itself; another taint would leave nodes with two, and pods
    tolerating only ours would never land there."""
    taint = ctx.config.gpu.taint
    if not ctx.config.gpu.enabled or taint == GKE_GPU_TAINT:
        return []
    return [
        _problem(
            "gpuTaint",
            taint,
            f"differs from the taint GKE puts on GPU nodes itself ({GKE_GPU_TAINT}), so nodes "
            "would carry both and pods tolerating one would not schedule",
            GKE_GPU_TAINT,
            rm_fix(ctx.stack, "gpuTaint"),
        )
    ]


def unused_gpu_keys(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    if ctx.config.gpu.enabled:
        return []
    keys = [k for k in ctx.raw if k.startswith("gcpGpu")]
    return [ignored(ctx.stack, k, ctx.raw[k], "unset while gpuEnabled is false") for k in keys]


def network_choice(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    gcp = ctx.section
    problems: list[Problem] = []
    existing = {
        "gcpExistingSubnetwork": gcp.existing_subnetwork,
        "gcpExistingPodsRange": gcp.existing_pods_range,
        "gcpExistingServicesRange": gcp.existing_services_range,
    }
    if gcp.existing_network:
        for key, value in existing.items():
            if not value:
                problems.append(
                    _problem(
                        key,
                        MISSING,
                        "is required with gcpExistingNetwork",
                        "a name in that network",
                        set_fix(ctx.stack, key, "<name>"),
                    )
                )
        for key in ("gcpNodeCidr", "gcpPodsCidr", "gcpServicesCidr", "gcpPsaCidr"):
            if ctx.is_set(key):
                problems.append(
                    ignored(ctx.stack, key, ctx.raw[key], "unset with gcpExistingNetwork")
                )
        return problems
    for key in existing:
        if ctx.is_set(key):
            problems.append(
                ignored(ctx.stack, key, ctx.raw[key], "unset unless gcpExistingNetwork is set")
            )
    ranges = {
        "gcpNodeCidr": gcp.node_cidr,
        "gcpPodsCidr": gcp.pods_cidr,
        "gcpServicesCidr": gcp.services_cidr,
        "gcpPsaCidr": gcp.psa_cidr,
        "gcpControlPlaneCidr": gcp.control_plane_cidr,
    }
    seen: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for key, cidr in ranges.items():
        network = ipaddress.ip_network(cidr)
        clash = next((other for other, net in seen if net.overlaps(network)), None)
        if clash:
            problems.append(
                _problem(
                    key,
                    cidr,
                    f"overlaps {clash} ({ranges[clash]})",
                    "a range disjoint from the other gcp*Cidr ranges",
                    set_fix(ctx.stack, key, "<free range>"),
                )
            )
        seen.append((key, network))
    return problems


def control_plane_size(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    cidr = ctx.section.control_plane_cidr
    if ipaddress.ip_network(cidr).prefixlen == 28:
        return []
    return [
        _problem(
            "gcpControlPlaneCidr",
            cidr,
            "is not a /28 (GKE's control plane takes exactly a /28)",
            "a private /28, e.g. 172.16.0.0/28",
            set_fix(ctx.stack, "gcpControlPlaneCidr", "172.16.0.0/28"),
        )
    ]


def filestore_size(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    gcp = ctx.section
    least = FILESTORE_MIN_GIB[gcp.filestore_tier]
    if least <= gcp.filestore_capacity <= FILESTORE_MAX_GIB:
        return []
    return [
        _problem(
            "gcpFilestoreCapacity",
            gcp.filestore_capacity,
            f"is outside what Filestore tier {gcp.filestore_tier} accepts",
            f"{least} to {FILESTORE_MAX_GIB} GiB",
            set_fix(ctx.stack, "gcpFilestoreCapacity", str(least)),
        )
    ]


def db_tier_fits_edition(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    gcp = ctx.section
    perf = gcp.db_tier.startswith("db-perf-optimized-")
    if perf == (gcp.db_edition == "ENTERPRISE_PLUS"):
        return []
    wanted = "db-perf-optimized-N-<vCPUs>" if not perf else "db-custom-<vCPUs>-<MiB>"
    return [
        _problem(
            "gcpDbTier",
            gcp.db_tier,
            f"is not a tier of Cloud SQL edition {gcp.db_edition}",
            wanted,
            set_fix(ctx.stack, "gcpDbTier", "db-custom-2-7680")
            + f", or set gcpDbEdition {'ENTERPRISE_PLUS' if perf else 'ENTERPRISE'}",
        )
    ]


def deployment_id_length(ctx: RuleContext[GcpConfig]) -> list[Problem]:
    deployment_id = ctx.config.deployment_id or ctx.stack.lower()
    if len(deployment_id) <= MAX_DEPLOYMENT_ID:
        return []
    key = "deploymentId"
    return [
        _problem(
            key,
            ctx.config.deployment_id or MISSING,
            f"makes service account ids longer than GCP's 30 characters (the id "
            f"{deployment_id!r} has {len(deployment_id)})",
            f"at most {MAX_DEPLOYMENT_ID} characters",
            set_fix(ctx.stack, key, deployment_id[:MAX_DEPLOYMENT_ID].rstrip("-")),
        )
    ]


SECTION = TargetSection(
    target="gcp",
    prefix="gcp",
    model=GcpConfig,
    rules=(
        project_named,
        project_not_placeholder,
        zone_in_region,
        api_access_named,
        api_open_to_the_internet,
        kubernetes_in_gke_support,
        pool_sizes,
        cpu_floor,
        gpu_machine,
        gpu_taint_is_gkes,
        unused_gpu_keys,
        network_choice,
        control_plane_size,
        filestore_size,
        db_tier_fits_edition,
        deployment_id_length,
    ),
)
