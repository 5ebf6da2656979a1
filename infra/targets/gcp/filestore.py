"""Filestore behind the static ``pdk-pvc`` volumes MLDE mounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.contract import SharedFilesystem
from infra.naming import Naming
from infra.targets.common.shared_fs import SharedFsArgs, StaticSharedFilesystem

SHARE = "pdk"


@dataclass(frozen=True)
class FilestoreArgs:
    naming: Naming
    """The stack's naming rules: protected and deletion-protected unless ephemeral."""
    zone: str
    """Zone of a zonal tier's instance (next to the nodes)."""
    tier: str
    """Filestore tier (BASIC_HDD, BASIC_SSD, ZONAL, REGIONAL, ENTERPRISE)."""
    capacity_gb: int
    """Share size in GiB, at least the tier's minimum."""
    network: pulumi.Input[str]
    """Name of the VPC the instance peers with."""
    namespaces: Mapping[str, k8s.core.v1.Namespace | None]
    """Namespaces that get the ``pdk-pvc`` claim."""
    kubernetes: pulumi.ResourceOptions
    """Options for the Kubernetes objects (provider, what to wait for)."""
    after: Sequence[pulumi.Resource] = ()
    """What the instance waits for (the project's APIs)."""


class FilestoreSharedFilesystem(pulumi.ComponentResource):
    """A Filestore instance with one NFS share, and one static volume per namespace pointing
    at it. Pulumi owns the instance, so nothing outside the stack (a CSI driver) creates or
    leaks one, and no privileged NFS server pod is needed."""

    shared_fs: SharedFilesystem
    address: pulumi.Output[str]

    def __init__(self, name: str, args: FilestoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:gcp:FilestoreSharedFilesystem", name, None, opts)
        naming = args.naming
        instance = gcp.filestore.Instance(
            f"{name}-instance",
            name=naming.cloud_name("shared"),
            location=args.zone,
            tier=args.tier,
            file_shares=gcp.filestore.InstanceFileSharesArgs(
                name=SHARE, capacity_gb=args.capacity_gb
            ),
            networks=[
                gcp.filestore.InstanceNetworkArgs(
                    network=args.network, modes=["MODE_IPV4"], connect_mode="DIRECT_PEERING"
                )
            ],
            deletion_protection_enabled=not naming.ephemeral,
            opts=naming.stateful(pulumi.ResourceOptions(parent=self, depends_on=list(args.after))),
        )
        self.address = instance.networks.apply(
            lambda networks: (networks[0].ip_addresses or [""])[0]
        )
        volumes = StaticSharedFilesystem(
            f"{name}-volumes",
            SharedFsArgs(
                naming=naming,
                source={
                    "nfs": k8s.core.v1.NFSVolumeSourceArgs(server=self.address, path=f"/{SHARE}")
                },
                storage_class="",
                size=f"{args.capacity_gb}Gi",
                namespaces=args.namespaces,
                depends_on=[instance],
            ),
            opts=pulumi.ResourceOptions.merge(args.kubernetes, pulumi.ResourceOptions(parent=self)),
        )
        self.shared_fs = volumes.shared_fs
        self.register_outputs({"address": self.address, "share": SHARE})
