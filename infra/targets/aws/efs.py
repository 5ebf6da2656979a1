"""EFS as the shared read-write-many filesystem, bound as ``pdk-pvc``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.contract import SharedFilesystem
from infra.naming import Naming
from infra.targets.aws.network import Admit, single_port_group
from infra.targets.common.shared_fs import SharedFsArgs, StaticSharedFilesystem

NFS_PORT = 2049
EFS_CLASS = "efs-sc"
EFS_DRIVER = "efs.csi.aws.com"


@dataclass(frozen=True)
class EfsArgs:
    naming: Naming
    """The stack's naming rules."""
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    """Only this range may reach the NFS port."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets; one mount target in each, so every zone's nodes mount locally."""
    size: str
    """Capacity recorded on the volumes and claims (EFS itself is elastic)."""
    namespaces: Mapping[str, k8s.core.v1.Namespace | None]
    """Namespaces that get the claim."""
    tags: Mapping[str, str]
    kubernetes: pulumi.ResourceOptions
    """Options for the Kubernetes objects (provider, and the EFS CSI driver to wait for)."""


class EfsSharedFilesystem(pulumi.ComponentResource):
    """An encrypted EFS file system, a security group admitting NFS from the VPC only, mount
    targets, the ``efs-sc`` StorageClass and static volumes bound to ``pdk-pvc``."""

    shared_fs: SharedFilesystem
    file_system_id: pulumi.Output[str]

    def __init__(self, name: str, args: EfsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:EfsSharedFilesystem", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        group = single_port_group(
            f"{name}-nfs",
            f"{name}-nfs-from-vpc",
            name=naming.cloud_name("efs", max_length=255),
            description="NFS to the PDK shared filesystem, from inside the VPC only",
            vpc_id=args.vpc_id,
            port=NFS_PORT,
            admit=Admit("NFS from the VPC", cidr_ipv4=args.vpc_cidr),
            tags=tags,
            opts=child,
        )
        file_system = aws.efs.FileSystem(
            f"{name}-fs",
            creation_token=naming.cloud_name("shared"),
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            tags={**tags, "Name": naming.cloud_name("shared")},
            opts=naming.stateful(child),
        )
        mounts = [
            aws.efs.MountTarget(
                f"{name}-mount-{index}",
                file_system_id=file_system.id,
                subnet_id=subnet,
                security_groups=[group.id],
                opts=child,
            )
            for index, subnet in enumerate(args.subnet_ids)
        ]
        kubernetes = pulumi.ResourceOptions.merge(
            args.kubernetes, pulumi.ResourceOptions(parent=self)
        )
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-class",
            metadata=naming.metadata(EFS_CLASS),
            provisioner=EFS_DRIVER,
            reclaim_policy="Retain",
            opts=kubernetes,
        )
        volumes = StaticSharedFilesystem(
            f"{name}-volumes",
            SharedFsArgs(
                naming=naming,
                source={
                    "csi": k8s.core.v1.CSIPersistentVolumeSourceArgs(
                        driver=EFS_DRIVER, volume_handle=file_system.id
                    )
                },
                storage_class=EFS_CLASS,
                size=args.size,
                namespaces=args.namespaces,
                depends_on=[storage_class, *mounts],
            ),
            opts=kubernetes,
        )
        self.shared_fs = volumes.shared_fs
        self.file_system_id = file_system.id
        self.register_outputs({"fileSystemId": file_system.id})
