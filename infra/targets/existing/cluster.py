"""The existing-cluster target: on-prem Kubernetes, or kind/minikube on a laptop.

Nothing outside the cluster is created. Postgres and MinIO run inside it, the shared filesystem
is an NFS export or a node folder the operator provides, and node labels and taints are the
operator's job (the stack config says what they are).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.config.stack import StackConfig
from infra.contract import (
    DATABASE_CLIENTS,
    OBJECT_STORE_CLIENTS,
    Buckets,
    ImageRegistry,
    NodePlacement,
    ObjectStore,
    TargetContract,
)
from infra.naming import Naming
from infra.platform.config import split_label, split_taint
from infra.sizing import resources
from infra.targets.common.namespaces import (
    GPU_NAMESPACE,
    MODELS_NAMESPACE,
    Namespaces,
    NamespacesArgs,
)
from infra.targets.common.shared_fs import SharedFsArgs, StaticSharedFilesystem
from infra.targets.existing.config import ExistingConfig
from infra.targets.existing.minio import (
    API_PORT,
    MINIO_LABELS,
    MODELS_WRITER,
    REGION,
    Grant,
    MinioObjectStore,
    MinioObjectStoreArgs,
)
from infra.targets.existing.policies import (
    DataNetworkPolicies,
    DataNetworkPoliciesArgs,
    ServerPolicy,
)
from infra.targets.existing.postgres import PORT as PG_PORT
from infra.targets.existing.postgres import (
    POSTGRES_LABELS,
    InClusterPostgres,
    InClusterPostgresArgs,
)

DATA_NAMESPACE = "pdk-data"
"""Postgres and MinIO live apart from the workloads, so their root credentials do too."""


@dataclass(frozen=True)
class ExistingClusterArgs:
    naming: Naming
    """The stack's naming rules."""
    config: StackConfig
    """The validated stack config; this target reads its ``ExistingConfig`` section, ``gpu``,
    ``shared_fs``, ``postgres`` and ``kubernetes_version``."""


class ExistingCluster(pulumi.ComponentResource):
    """Adopts a cluster through its kubeconfig and fills the target contract."""

    contract: TargetContract

    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:ExistingCluster", name, None, opts)
        config, naming = args.config, args.naming
        existing = config.section(ExistingConfig)
        cluster = existing.cluster
        provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=pulumi.Output.secret(cluster.kubeconfig) if cluster.kubeconfig else None,
            context=cluster.context or None,
            # A CI cluster may be gone before its stack is destroyed; let destroy finish anyway.
            delete_unreachable=True if naming.ephemeral else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        scoped = pulumi.ResourceOptions(parent=self, provider=provider)

        namespaces = Namespaces(
            f"{name}-namespaces",
            NamespacesArgs(
                naming=naming,
                names=[DATA_NAMESPACE, GPU_NAMESPACE, MODELS_NAMESPACE],
                stateful=frozenset({DATA_NAMESPACE, GPU_NAMESPACE}),
            ),
            opts=scoped,
        )
        data_namespace = namespaces.by_name[DATA_NAMESPACE].metadata.name

        postgres = InClusterPostgres(
            f"{name}-postgres",
            InClusterPostgresArgs(
                naming=naming,
                namespace=data_namespace,
                image=config.postgres.image,
                storage_size=existing.postgres.storage_size,
                storage_class=cluster.storage_class,
                resources=resources("postgres", config.platform.size),
            ),
            opts=scoped,
        )

        buckets = Buckets(
            mldm=naming.cloud_name("mldm"),
            checkpoints=naming.cloud_name("mlde-checkpoints"),
            models=naming.cloud_name("models"),
        )
        all_buckets = [buckets.mldm, buckets.checkpoints, buckets.models]
        minio = MinioObjectStore(
            f"{name}-minio",
            MinioObjectStoreArgs(
                naming=naming,
                namespace=data_namespace,
                image=existing.minio.image,
                client_image=existing.minio.client_image,
                storage_size=existing.minio.storage_size,
                storage_class=cluster.storage_class,
                resources=resources("minio", config.platform.size),
                buckets=[str(b) for b in all_buckets],
                grants={
                    # MLDM stores repos and also serves the models bucket through its S3 gateway.
                    "mldm": Grant(
                        buckets=[str(b) for b in all_buckets], write=True, namespaces=["default"]
                    ),
                    "mlde": Grant(
                        buckets=[str(buckets.checkpoints)], write=True, namespaces=["default"]
                    ),
                    "kserve": Grant(
                        buckets=[str(buckets.models)], write=False, namespaces=[MODELS_NAMESPACE]
                    ),
                    # The flow's deploy step uploads model archives: the models bucket only.
                    MODELS_WRITER: Grant(
                        buckets=[str(buckets.models)], write=True, namespaces=["default"]
                    ),
                },
                namespace_resources=[namespaces.by_name[MODELS_NAMESPACE]],
            ),
            opts=scoped,
        )

        DataNetworkPolicies(
            f"{name}-policies",
            DataNetworkPoliciesArgs(
                naming=naming,
                namespace=DATA_NAMESPACE,
                servers=[
                    ServerPolicy("postgres-clients", POSTGRES_LABELS, PG_PORT, DATABASE_CLIENTS),
                    ServerPolicy("minio-clients", MINIO_LABELS, API_PORT, OBJECT_STORE_CLIENTS),
                ],
                depends_on=[namespaces.by_name[DATA_NAMESPACE]],
            ),
            opts=scoped,
        )

        shared = StaticSharedFilesystem(
            f"{name}-shared-fs",
            SharedFsArgs(
                naming=naming,
                source=_shared_source(existing),
                storage_class="",
                size=config.shared_fs.size,
                namespaces={"default": None, GPU_NAMESPACE: namespaces.by_name[GPU_NAMESPACE]},
            ),
            opts=scoped,
        )

        gpu = config.gpu
        self.contract = TargetContract(
            name="existing",
            provider=provider,
            kubernetes_version=config.kubernetes_version,
            # An adopted cluster has no name of its own beyond the context that reaches it.
            cluster_name=cluster.context or naming.deployment_id,
            namespaces=namespaces.by_name,
            object_store=ObjectStore(
                kind="minio",
                endpoint=minio.endpoint,
                region=REGION,
                secure=False,
                buckets=buckets,
            ),
            storage_access={
                "mldm": minio.access["mldm"],
                "mlde": minio.access["mlde"],
                "kserve": minio.access["kserve"],
            },
            models_writer=minio.access[MODELS_WRITER],
            postgres=postgres.postgres,
            shared_fs=shared.shared_fs,
            registry=ImageRegistry(url=existing.registry),
            nodes=NodePlacement(
                gpu_enabled=gpu.enabled,
                gpu_label=split_label(gpu.node_label),
                gpu_taint=split_taint(gpu.taint),
                cpu_label=split_label(gpu.cpu_node_label),
                # An existing cluster ships no device plugin; the platform installs it.
                needs_device_plugin=gpu.enabled,
            ),
            ready=[*postgres.postgres.ready, minio.setup],
            commands={
                "objectStoreConsole": (
                    f"kubectl -n {DATA_NAMESPACE} port-forward svc/minio 9001:9001"
                ),
                "objectStoreRootUser": (
                    f"kubectl -n {DATA_NAMESPACE} get secret minio-root-credentials "
                    "-o jsonpath='{.data.MINIO_ROOT_USER}' | base64 -d"
                ),
                "postgresShell": f"kubectl -n {DATA_NAMESPACE} exec -it postgres-0 -- psql -U pdk",
            },
        )
        self.register_outputs({"target": "existing"})


def _shared_source(existing: ExistingConfig) -> dict[str, object]:
    shared = existing.shared_fs
    if shared.type == "nfs":
        return {"nfs": k8s.core.v1.NFSVolumeSourceArgs(server=shared.nfs_server, path=shared.path)}
    return {
        "host_path": k8s.core.v1.HostPathVolumeSourceArgs(
            path=shared.path, type="DirectoryOrCreate"
        )
    }


def build(naming: Naming, config: StackConfig) -> TargetContract:
    return ExistingCluster("cluster", ExistingClusterArgs(naming=naming, config=config)).contract
