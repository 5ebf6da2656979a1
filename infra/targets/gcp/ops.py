"""The GCP target's hooks for `pdk estimate`, `pdk graph` and `pdk preflight`.

Read from the planned resources (node pools, the Cloud SQL instance, Filestore, the provider's
project and region). Preflight calls the Compute Engine and GKE APIs through
google-api-python-client with Application Default Credentials; see
shared/reference/gcp.md ("Checking availability and quota before deploying").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infra.ops.estimate import PriceLine, load_balancer_services
from infra.ops.hooks import Resources, TargetOps
from infra.ops.preflight import Check, MissingCredentials, PreflightContext

HERE = Path(__file__).parent
NODE_POOL = "gcp:container/nodePool:NodePool"

# Compute Engine quota metrics per accelerator type (Compute v1 Quota.Metric); spot VMs draw on
# the PREEMPTIBLE_ variant. Source: shared/reference/gcp.md.
GPU_QUOTA_METRICS = {
    "nvidia-tesla-t4": "NVIDIA_T4_GPUS",
    "nvidia-l4": "NVIDIA_L4_GPUS",
    "nvidia-tesla-a100": "NVIDIA_A100_GPUS",
    "nvidia-a100-80gb": "NVIDIA_A100_80GB_GPUS",
    "nvidia-h100-80gb": "NVIDIA_H100_GPUS",
    "nvidia-tesla-v100": "NVIDIA_V100_GPUS",
}


def _provider(resources: Resources) -> Mapping[str, Any]:
    for resource in resources:
        if resource["type"] == "pulumi:providers:gcp":
            return resource.get("inputs") or {}
    return {}


def region(resources: Resources) -> str | None:
    value = _provider(resources).get("region")
    return str(value) if value else None


def _pools(resources: Resources) -> list[Mapping[str, Any]]:
    return [r for r in resources if r["type"] == NODE_POOL]


def _sizes(pool: Mapping[str, Any]) -> tuple[int, int]:
    scaling = (pool.get("inputs") or {}).get("autoscaling") or {}
    low = scaling.get("totalMinNodeCount", scaling.get("minNodeCount", 0))
    high = scaling.get("totalMaxNodeCount", scaling.get("maxNodeCount", low))
    return int(low or 0), int(high or 0)


def _accelerators(pool: Mapping[str, Any]) -> list[tuple[str, int]]:
    node_config = (pool.get("inputs") or {}).get("nodeConfig") or {}
    return [
        (str(a.get("type")), int(a.get("count", 1)))
        for a in node_config.get("guestAccelerators") or []
    ]


def is_gpu_pool(pool: Mapping[str, Any]) -> bool:
    machine = str(((pool.get("inputs") or {}).get("nodeConfig") or {}).get("machineType", ""))
    return bool(_accelerators(pool)) or machine.split("-", 1)[0] in ("g2", "a2", "a3")


def capacity(resources: Resources) -> list[str]:
    """Node pools that start with at least one node."""
    return [str(p["name"]) for p in _pools(resources) if _sizes(p)[0] > 0]


_CUSTOM_TIER = re.compile(r"^db-custom-(\d+)-(\d+)$")


def price_lines(resources: Resources) -> list[PriceLine]:
    lines: list[PriceLine] = []
    nodes_min = nodes_max = 0
    for resource in resources:
        token, inputs = resource["type"], resource.get("inputs") or {}
        if token == "gcp:container/cluster:Cluster":
            lines.append(PriceLine("GKE cluster management fee", "gke.cluster", 1, 1))
        elif token == NODE_POOL:
            low, high = _sizes(resource)
            gpu = is_gpu_pool(resource)
            if gpu:
                low = 0  # GPU pools are shown idle; the autoscaler adds nodes for trials
            nodes_min, nodes_max = nodes_min + low, nodes_max + high
            node_config = inputs.get("nodeConfig") or {}
            machine = str(node_config.get("machineType", "unknown"))
            kind = "GPU" if gpu else "CPU"
            note = "priced on-demand (spot is cheaper)" if node_config.get("spot") else ""
            lines.append(
                PriceLine(
                    f"{kind} nodes {resource['name']} ({machine})",
                    f"compute.{machine}",
                    low,
                    high,
                    note,
                )
            )
            # A2/A3/G2 machine prices include their GPUs; N1 pools pay for attached GPUs.
            bundled = machine.split("-", 1)[0] in ("g2", "a2", "a3")
            for accelerator, count in [] if bundled else _accelerators(resource):
                lines.append(
                    PriceLine(
                        f"{accelerator} on {resource['name']}",
                        f"gpu.{accelerator}",
                        low * count,
                        high * count,
                    )
                )
            disk = int(node_config.get("diskSizeGb", 0))
            if disk:
                disk_type = str(node_config.get("diskType", "pd-balanced"))
                lines.append(
                    PriceLine(
                        f"{kind} node boot disks ({disk} GB {disk_type} each)",
                        f"disk.{disk_type}",
                        low * disk,
                        high * disk,
                    )
                )
        elif token == "gcp:sql/databaseInstance:DatabaseInstance":
            settings = inputs.get("settings") or {}
            copies = 2 if settings.get("availabilityType") == "REGIONAL" else 1
            match = _CUSTOM_TIER.match(str(settings.get("tier", "")))
            if match:
                cpus, memory_gb = int(match.group(1)), int(match.group(2)) / 1024
                lines.append(
                    PriceLine(
                        f"Cloud SQL vCPUs ({settings['tier']})",
                        "sql.vcpu",
                        cpus * copies,
                        cpus * copies,
                    )
                )
                lines.append(
                    PriceLine(
                        "Cloud SQL memory (GB)",
                        "sql.memory_gb",
                        memory_gb * copies,
                        memory_gb * copies,
                    )
                )
            else:
                lines.append(
                    PriceLine(
                        f"Cloud SQL {settings.get('tier')}",
                        f"sql.{settings.get('tier')}",
                        copies,
                        copies,
                    )
                )
            disk = int(settings.get("diskSize", 10)) * copies
            lines.append(PriceLine("Cloud SQL SSD storage", "sql.ssd", disk, disk))
        elif token == "gcp:filestore/instance:Instance":
            shares = inputs.get("fileShares") or {}
            if isinstance(shares, list):
                shares = shares[0] if shares else {}
            size = int(shares.get("capacityGb", 0))
            tier = str(inputs.get("tier", "BASIC_HDD")).lower()
            lines.append(
                PriceLine(f"Filestore {tier} ({size} GB)", f"filestore.{tier}", size, size)
            )
    if any(r["type"] == "gcp:compute/routerNat:RouterNat" for r in resources):
        lines.append(PriceLine("Cloud NAT (per node VM)", "nat.vm", nodes_min, nodes_max))
    balancers = load_balancer_services(resources)
    if balancers:
        names = ", ".join(sorted({name for name, _ in balancers}))
        lines.append(
            PriceLine(
                f"forwarding rules for LoadBalancer Services ({names})",
                "lb.forwarding_rule",
                len(balancers),
                len(balancers),
                "created by GKE, not by Pulumi",
            )
        )
    return lines


NOT_COUNTED = (
    "data transfer: internet egress, cross-zone traffic, Cloud NAT and load-balancer per-GB "
    "processing",
    "usage-based storage: Cloud Storage, Artifact Registry, persistent disks that claims create "
    "later, Cloud SQL backups",
    "the GKE free-tier credit (74.40 USD/month per billing account, about one zonal cluster), "
    "sustained-use and committed-use discounts, spot prices, external IP addresses, Cloud "
    "Logging, taxes",
)


# --- preflight ------------------------------------------------------------------------------


def _service(ctx: PreflightContext, name: str, version: str, credentials: Any) -> Any:
    if ctx.clients is not None:
        return ctx.clients(name)
    from googleapiclient import discovery  # type: ignore[import-untyped]

    # The discovery documents ship with the library: no extra request to build the client.
    return discovery.build(
        name, version, credentials=credentials, cache_discovery=False, static_discovery=True
    )


def _credentials(ctx: PreflightContext) -> tuple[Any, str | None]:
    if ctx.clients is not None:
        found: tuple[Any, str | None] = ctx.clients("credentials")
        return found
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, project = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except DefaultCredentialsError as error:
        raise MissingCredentials(
            f"no Google credentials ({error}): run `gcloud auth application-default login` or "
            "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
        ) from None
    return credentials, project


def _http_status(error: Exception) -> int:
    return int(getattr(getattr(error, "resp", None), "status", 0) or 0)


def preflight(ctx: PreflightContext) -> Iterator[Check]:
    from googleapiclient.errors import HttpError  # type: ignore[import-untyped]

    provider = _provider(ctx.resources)
    project, where = str(provider.get("project", "")), region(ctx.resources)
    if not project or not where:
        yield Check(
            "project",
            "fail",
            "the plan names no GCP project or region",
            "set gcpProject and gcpRegion",
        )
        return
    credentials, default_project = _credentials(ctx)
    compute = _service(ctx, "compute", "v1", credentials)
    try:
        found = compute.projects().get(project=project).execute()
    except HttpError as error:
        if _http_status(error) in (401, 403, 404):
            yield Check(
                "credentials",
                "fail",
                f"these credentials cannot read project {project} ({_http_status(error)})",
                "grant them roles/viewer (or compute.viewer) on the project, or fix gcpProject",
            )
            return
        raise
    note = (
        ""
        if default_project in (None, project)
        else (f" (their default project is {default_project})")
    )
    yield Check("credentials", "pass", f"project {project} is readable{note}")
    global_quotas = {q["metric"]: q for q in found.get("quotas") or []}
    try:
        region_info = compute.regions().get(project=project, region=where).execute()
    except HttpError as error:
        yield Check("region", "fail", f"{where}: {error}", "set gcpRegion to a Compute region")
        return
    if region_info.get("status") != "UP":
        yield Check("region", "fail", f"{where} is {region_info.get('status')}", "")
        return
    yield Check("region", "pass", f"{where} is up")
    quotas = {q["metric"]: q for q in region_info.get("quotas") or []}
    yield from _pools_checks(ctx, compute, project, quotas, global_quotas)
    yield from _gke_version(ctx, credentials, project)


def _zones(pool: Mapping[str, Any]) -> list[str]:
    inputs = pool.get("inputs") or {}
    zones = inputs.get("nodeLocations") or []
    location = str(inputs.get("location", ""))
    if not zones and re.search(r"-[a-z]$", location):
        zones = [location]
    return [str(z) for z in zones]


def _pools_checks(
    ctx: PreflightContext,
    compute: Any,
    project: str,
    quotas: Mapping[str, Mapping[str, Any]],
    global_quotas: Mapping[str, Mapping[str, Any]],
) -> Iterator[Check]:
    from googleapiclient.errors import HttpError

    cpu_need: dict[str, int] = {}
    gpu_need: dict[str, int] = {}
    for pool in _pools(ctx.resources):
        node_config = (pool.get("inputs") or {}).get("nodeConfig") or {}
        machine = str(node_config.get("machineType", ""))
        spot = bool(node_config.get("spot") or node_config.get("preemptible"))
        _, high = _sizes(pool)
        zones = _zones(pool)
        cpus = 0
        for zone in zones:
            try:
                info = (
                    compute.machineTypes()
                    .get(project=project, zone=zone, machineType=machine)
                    .execute()
                )
                cpus = int(info.get("guestCpus", 0))
                yield Check(f"{machine} in {zone}", "pass", f"{cpus} vCPUs ({pool['name']})")
            except HttpError as error:
                if _http_status(error) != 404:
                    raise
                yield Check(
                    f"{machine} in {zone}",
                    "fail",
                    f"not offered in {zone} ({pool['name']})",
                    "choose another machine type or zone (`gcloud compute machine-types list "
                    f"--zones {zone}`)",
                )
            accelerators = _accelerators(pool)
            if accelerators:
                offered = {
                    a["name"]
                    for a in compute.acceleratorTypes()
                    .list(project=project, zone=zone)
                    .execute()
                    .get("items", [])
                }
                for accelerator, _count in accelerators:
                    if accelerator in offered:
                        yield Check(f"{accelerator} in {zone}", "pass", "offered")
                    else:
                        yield Check(
                            f"{accelerator} in {zone}",
                            "fail",
                            f"not offered in {zone} (offered: {_names(offered)})",
                            "choose a zone that offers it (shared/reference/gcp.md lists some)",
                        )
        family = machine.split("-", 1)[0].upper()
        metric = f"{family}_CPUS" if f"{family}_CPUS" in quotas else "CPUS"
        if spot and f"PREEMPTIBLE_{metric}" in quotas:
            metric = f"PREEMPTIBLE_{metric}"
        cpu_need[metric] = cpu_need.get(metric, 0) + cpus * high
        for accelerator, count in _accelerators(pool):
            gpu_metric = GPU_QUOTA_METRICS.get(accelerator)
            if gpu_metric is None:
                yield Check(f"quota for {accelerator}", "warn", "no quota metric known for it")
                continue
            gpu_metric = f"PREEMPTIBLE_{gpu_metric}" if spot else gpu_metric
            gpu_need[gpu_metric] = gpu_need.get(gpu_metric, 0) + count * high
    for metric, wanted in sorted({**cpu_need, **gpu_need}.items()):
        yield _quota_check(metric, wanted, quotas.get(metric), "regional")
    total_gpus = sum(gpu_need.values())
    if total_gpus:
        yield _quota_check(
            "GPUS_ALL_REGIONS", total_gpus, global_quotas.get("GPUS_ALL_REGIONS"), "global"
        )


def _names(values: set[str]) -> str:
    return ", ".join(sorted(values)) or "none"


def _quota_check(metric: str, wanted: int, quota: Mapping[str, Any] | None, scope: str) -> Check:
    name = f"{scope} quota {metric}"
    if quota is None:
        return Check(name, "warn", f"not reported for this project; {wanted} needed at max size")
    limit, usage = float(quota.get("limit", 0)), float(quota.get("usage", 0))
    free = limit - usage
    if free < wanted:
        return Check(
            name,
            "fail",
            f"{free:g} free (limit {limit:g}, in use {usage:g}), {wanted} needed at max size",
            "request an increase (IAM & Admin > Quotas) or lower the pools' max sizes",
        )
    return Check(name, "pass", f"{free:g} free (limit {limit:g}), {wanted} needed at max size")


def _gke_version(ctx: PreflightContext, credentials: Any, project: str) -> Iterator[Check]:
    from googleapiclient.errors import HttpError

    clusters = [r for r in ctx.resources if r["type"] == "gcp:container/cluster:Cluster"]
    if not clusters:
        return
    inputs = clusters[0].get("inputs") or {}
    wanted = str(inputs.get("minMasterVersion") or "")
    location = str(inputs.get("location", ""))
    if not wanted or not location:
        return
    container = _service(ctx, "container", "v1", credentials)
    try:
        config = (
            container.projects()
            .locations()
            .getServerConfig(name=f"projects/{project}/locations/{location}")
            .execute()
        )
    except HttpError as error:
        yield Check(f"GKE Kubernetes {wanted}", "warn", f"could not be checked: {error}")
        return
    offered = list(config.get("validMasterVersions") or [])
    for channel in config.get("channels") or []:
        offered.extend(channel.get("validVersions") or [])
    matching = sorted({v for v in offered if v == wanted or v.startswith(f"{wanted}.")})
    if matching:
        yield Check(f"GKE Kubernetes {wanted}", "pass", f"offered ({matching[-1]})")
    else:
        minors = sorted({".".join(v.split(".")[:2]) for v in offered})
        yield Check(
            f"GKE Kubernetes {wanted}",
            "fail",
            f"GKE in {location} does not offer {wanted} (offers {', '.join(minors)})",
            "set kubernetesVersion to one of them",
        )


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
