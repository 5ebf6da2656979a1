"""The shared read-write-many filesystem of an existing cluster, bound as ``pdk-pvc``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import SHARED_CLAIM, SharedFilesystem
from infra.naming import Naming


@dataclass(frozen=True)
class SharedFsArgs:
    naming: Naming
    """The stack's naming rules."""
    type: Literal["nfs", "hostPath"]
    """nfs: an existing export. hostPath: a folder present on every node."""
    nfs_server: str
    """NFS server address (nfs only)."""
    path: str
    """Export path (nfs) or node folder (hostPath)."""
    size: str
    """Capacity recorded on the volumes and claims."""
    namespaces: Mapping[str, k8s.core.v1.Namespace | None]
    """Namespaces that get the claim, each with the resource that creates it (None for one
    that always exists, such as ``default``)."""


class StaticSharedFilesystem(pulumi.ComponentResource):
    """One static PersistentVolume per namespace, all pointing at the same folder, each
    pre-bound to that namespace's ``pdk-pvc`` claim.

    A PersistentVolume binds to exactly one claim, so sharing a folder across namespaces takes
    one volume per claim. Volumes use ``Retain`` and no StorageClass, so no provisioner touches
    the data, and deleting a claim leaves the files in place.
    """

    shared_fs: SharedFilesystem

    def __init__(self, name: str, args: SharedFsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:StaticSharedFilesystem", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/name": "pdk-shared-fs"}
        source: dict[str, object]
        if args.type == "nfs":
            source = {
                "nfs": k8s.core.v1.NFSVolumeSourceArgs(server=args.nfs_server, path=args.path)
            }
        else:
            source = {
                "host_path": k8s.core.v1.HostPathVolumeSourceArgs(
                    path=args.path, type="DirectoryOrCreate"
                )
            }
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
                    storage_class_name="",
                    claim_ref=k8s.core.v1.ObjectReferenceArgs(namespace=ns_name, name=SHARED_CLAIM),
                    **source,  # type: ignore[arg-type]
                ),
                opts=naming.stateful(child),
            )
            k8s.core.v1.PersistentVolumeClaim(
                f"{name}-claim-{ns_name}",
                metadata=naming.metadata(SHARED_CLAIM, ns_input, labels),
                spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteMany"],
                    storage_class_name="",
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
