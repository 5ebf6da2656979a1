"""The CPU and GPU node pools. GKE's own autoscaler sizes them, so there are no discovery
tags: it knows each pool's template (labels, taints, accelerators), also at zero nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from infra.naming import Naming
from infra.targets.gcp.cluster import CLOUD_PLATFORM_SCOPE

TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
"""Kubernetes taint effects as the GKE API spells them."""
GPU_DRIVER_VERSION = "LATEST"
"""GKE installs the NVIDIA driver (and always runs its own device plugin). Set explicitly:
unset meant "no driver" before GKE 1.30, and changing it recreates the pool."""


@dataclass(frozen=True)
class PoolSpec:
    """One node pool."""

    role: Literal["cpu", "gpu"]
    """Which work the pool runs."""
    machine_type: str
    min_nodes: int
    """Fewest nodes across the pool's zones (``total_min_node_count``)."""
    max_nodes: int
    """Most nodes across the pool's zones."""
    initial_nodes: int
    """Nodes per zone at creation; the autoscaler owns the count afterwards."""
    disk_size: int
    """Boot disk in GB (pd-balanced)."""
    labels: Mapping[str, str]
    taints: Sequence[tuple[str, str, str]]
    """(key, value, Kubernetes effect)."""
    spot: bool = False
    accelerator: tuple[str, int] | None = None
    """(accelerator type, count per node) for machine types that take attached GPUs."""
    locations: Sequence[str] = ()
    """Zones of the pool; empty: the cluster's."""


@dataclass(frozen=True)
class NodePoolsArgs:
    naming: Naming
    """The stack's naming rules."""
    cluster: pulumi.Input[str]
    """The cluster's id."""
    location: str
    """The cluster's location (zone or region)."""
    service_account: pulumi.Input[str]
    """E-mail of the nodes' service account."""
    pools: Sequence[PoolSpec]
    """The CPU pool first: the GPU pool waits for it."""
    labels: Mapping[str, str]
    """GCP labels of the node VMs."""


def _node_config(spec: PoolSpec, args: NodePoolsArgs) -> gcp.container.NodePoolNodeConfigArgs:
    accelerators = None
    if spec.accelerator is not None:
        kind, count = spec.accelerator
        accelerators = [
            gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                type=kind,
                count=count,
                gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                    gpu_driver_version=GPU_DRIVER_VERSION
                ),
            )
        ]
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=spec.machine_type,
        disk_type="pd-balanced",
        disk_size_gb=spec.disk_size,
        image_type="COS_CONTAINERD",
        service_account=args.service_account,
        oauth_scopes=[CLOUD_PLATFORM_SCOPE],
        # The GKE metadata server: pods see their Workload Identity, never the node's account.
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"
        ),
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        spot=spec.spot,
        guest_accelerators=accelerators,
        labels=dict(spec.labels),
        # Declared even though GKE taints GPU pools itself: it does so only when the pool joins
        # a cluster that already has a non-GPU pool, which parallel creation can miss
        # (terraform-google-kubernetes-engine#703).
        taints=[
            gcp.container.NodePoolNodeConfigTaintArgs(
                key=key, value=value, effect=TAINT_EFFECTS[effect]
            )
            for key, value, effect in spec.taints
        ],
        resource_labels=dict(args.labels),
    )


class NodePools(pulumi.ComponentResource):
    """Autoscaled pools with auto-repair and auto-upgrade (the release channel decides the
    version: a pinned pool version and auto-upgrade fight each other)."""

    pools: dict[str, gcp.container.NodePool]

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:gcp:NodePools", name, None, opts)
        self.pools = {}
        previous: list[pulumi.Resource] = []
        for spec in args.pools:
            pool = gcp.container.NodePool(
                f"{name}-{spec.role}",
                name=args.naming.cloud_name(spec.role, max_length=40),
                cluster=args.cluster,
                location=args.location,
                node_locations=list(spec.locations) or None,
                initial_node_count=spec.initial_nodes,
                autoscaling=gcp.container.NodePoolAutoscalingArgs(
                    total_min_node_count=spec.min_nodes,
                    total_max_node_count=spec.max_nodes,
                    # ANY uses whichever zone has capacity (and spare reservations): GPUs are
                    # scarce; BALANCED spreads the CPU pool.
                    location_policy="ANY" if spec.accelerator else "BALANCED",
                ),
                management=gcp.container.NodePoolManagementArgs(
                    auto_repair=True, auto_upgrade=True
                ),
                node_config=_node_config(spec, args),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=previous,
                    # Changing it recreates the pool; the autoscaler owns the count anyway.
                    ignore_changes=["initial_node_count"],
                ),
            )
            self.pools[spec.role] = pool
            previous = [pool]
        self.register_outputs({role: pool.name for role, pool in self.pools.items()})
