"""The shared read-write-many filesystem, bound as ``pdk-pvc`` in every namespace that needs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import SHARED_CLAIM, SharedFilesystem
from infra.naming import Naming


@dataclass(frozen=True)
class SharedFsArgs:
    naming: Naming
    """The stack's naming rules."""
    source: Mapping[str, Any]
    """The volume source, as ``PersistentVolumeSpecArgs`` keyword arguments: ``nfs``,
    ``host_path`` or ``csi`` (EFS)."""
    storage_class: str
    """StorageClass recorded on volumes and claims; empty for none, so no provisioner acts."""
    size: str
    """Capacity recorded on the volumes and claims."""
    namespaces: Mapping[str, k8s.core.v1.Namespace | None]
    """Namespaces that get the claim, each with the resource that creates it (None for one
    that always exists, such as ``default``)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the volumes need first (a StorageClass, the file system's mount targets)."""


class StaticSharedFilesystem(pulumi.ComponentResource):
    """One static PersistentVolume per namespace, all pointing at the same folder, each
    pre-bound to that namespace's ``pdk-pvc`` claim.

    A PersistentVolume binds to exactly one claim, so sharing a folder across namespaces takes
    one volume per claim. Volumes are static and use ``Retain``, so no provisioner creates or
    deletes anything, and deleting a claim leaves the files in place.
    """

    shared_fs: SharedFilesystem

    def __init__(self, name: str, args: SharedFsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:StaticSharedFilesystem", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        labels = {"app.kubernetes.io/name": "pdk-shared-fs"}
        for ns_name, namespace in args.namespaces.items():
            ns_input: pulumi.Input[str] = namespace.metadata.name if namespace else ns_name
            volume_name = naming.cloud_name(f"shared-{ns_name}")
            volume = k8s.core.v1.PersistentVolume(
                f"{name}-volume-{ns_name}",
                metadata=naming.metadata(volume_name, labels=labels),
                spec=k8s.core.v1.PersistentVolumeSpecArgs(
                    capacity={"storage": args.size},
                    access_modes=["ReadWriteMany"],
                    persistent_volume_reclaim_policy="Retain",
                    storage_class_name=args.storage_class,
                    claim_ref=k8s.core.v1.ObjectReferenceArgs(namespace=ns_name, name=SHARED_CLAIM),
                    **args.source,
                ),
                opts=naming.stateful(child),
            )
            k8s.core.v1.PersistentVolumeClaim(
                f"{name}-claim-{ns_name}",
                metadata=naming.metadata(SHARED_CLAIM, ns_input, labels),
                spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteMany"],
                    storage_class_name=args.storage_class,
                    volume_name=volume.metadata.name,
                    resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                        requests={"storage": args.size}
                    ),
                ),
                opts=naming.stateful(child),
            )
        names = list(args.namespaces)
        self.shared_fs = SharedFilesystem(claim_name=SHARED_CLAIM, namespaces=names)
        self.register_outputs({"claim": SHARED_CLAIM, "namespaces": names})
