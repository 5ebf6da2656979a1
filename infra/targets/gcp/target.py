"""The GCP target: a VPC, GKE Standard with CPU and GPU pools, Cloud SQL, GCS, Workload
Identity, Filestore and Artifact Registry.

Everything is created in the configured project and region through one explicit Google
provider, labelled with the stack's labels (translated to GCP's alphabet) through the
provider's ``default_labels``, waits for the project's APIs, and is described to the layers
above with a ``TargetContract``. Stateful resources (cluster, database, buckets, file share)
are protected unless the stack is ephemeral.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.config.stack import StackConfig
from infra.contract import BUCKET_ROLES, Buckets, NodePlacement, ObjectStore, TargetContract
from infra.naming import Naming
from infra.platform.config import split_label, split_taint
from infra.targets.common.namespaces import (
    GPU_NAMESPACE,
    MODELS_NAMESPACE,
    Namespaces,
    NamespacesArgs,
)
from infra.targets.gcp.cluster import GkeCluster, GkeClusterArgs
from infra.targets.gcp.config import GcpConfig
from infra.targets.gcp.database import CloudSqlArgs, CloudSqlPostgres
from infra.targets.gcp.filestore import FilestoreArgs, FilestoreSharedFilesystem
from infra.targets.gcp.identity import WorkloadIdentities, WorkloadIdentityArgs
from infra.targets.gcp.network import Network, NetworkArgs
from infra.targets.gcp.node_account import NodeAccountArgs, NodeServiceAccount
from infra.targets.gcp.node_pools import NodePools, NodePoolsArgs, PoolSpec
from infra.targets.gcp.project import ProjectApis, ProjectApisArgs, gcp_labels
from infra.targets.gcp.registry import ArtifactRegistry, ArtifactRegistryArgs
from infra.targets.gcp.storage import GcsBuckets, GcsBucketsArgs
from infra.targets.gcp.volumes import pd_storage_class
from infra.values import split_list


def node_pools(gcp_config: GcpConfig, placement: NodePlacement) -> list[PoolSpec]:
    """The CPU pool, and the GPU pool when the stack has GPUs."""
    cpu = gcp_config.cpu
    pools = [
        PoolSpec(
            role="cpu",
            machine_type=cpu.instance_type,
            min_nodes=cpu.min_size,
            max_nodes=cpu.max_size,
            initial_nodes=cpu.desired_size,
            disk_size=cpu.disk_size,
            labels=dict([placement.cpu_label]),
            taints=(),
        )
    ]
    if placement.gpu_enabled:
        gpu = gcp_config.gpu
        pools.append(
            PoolSpec(
                role="gpu",
                machine_type=gpu.instance_type,
                min_nodes=gpu.min_size,
                max_nodes=gpu.max_size,
                initial_nodes=gpu.desired_size,
                disk_size=gpu.disk_size,
                labels=dict([placement.gpu_label]),
                taints=(placement.gpu_taint,),
                spot=gpu.spot,
                accelerator=(gpu.accelerator_type, gpu.accelerator_count),
                # One zone: GPU types are zonal, and quota is per zone of a regional pool.
                locations=(gcp_config.zone,),
            )
        )
    return pools


@dataclass(frozen=True)
class GcpTargetArgs:
    naming: Naming
    """The stack's naming rules."""
    config: StackConfig
    """The validated stack config; this target reads its ``gcp`` section, ``gpu``,
    ``kubernetes_version`` and ``ephemeral`` (through ``naming``)."""


class GcpTarget(pulumi.ComponentResource):
    """Creates the GCP side of a PDK deployment and fills the target contract."""

    contract: TargetContract

    def __init__(self, name: str, args: GcpTargetArgs, opts: pulumi.ResourceOptions | None = None):
        config, naming = args.config, args.naming
        settings = config.section(GcpConfig)
        project, region, zone = settings.project, settings.region, settings.zone
        super().__init__("pdk:gcp:GcpTarget", name, None, opts)
        labels = gcp_labels(naming.labels)
        # One explicit provider: project and region come from the stack, never from gcloud's
        # defaults or the environment. default_labels reach every resource that takes labels.
        provider = gcp.Provider(
            f"{name}-gcp",
            project=project,
            region=region,
            zone=zone,
            default_labels=labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers=[provider])
        gpu = config.gpu
        placement = NodePlacement(
            gpu_enabled=gpu.enabled,
            gpu_label=split_label(gpu.node_label),
            gpu_taint=split_taint(gpu.taint),
            cpu_label=split_label(gpu.cpu_node_label),
            # GKE installs the driver (gpu_driver_version) and always runs its own device
            # plugin; a second one would double-advertise the GPUs.
            needs_device_plugin=False,
        )

        apis = ProjectApis(f"{name}-apis", ProjectApisArgs(), opts=child)
        after_apis = list(apis.services)
        nodes_account = NodeServiceAccount(
            f"{name}-node-account",
            NodeAccountArgs(naming=naming, project=project, after=after_apis),
            opts=child,
        )
        network = Network(
            f"{name}-network",
            NetworkArgs(
                naming=naming,
                project=project,
                region=region,
                node_cidr=settings.node_cidr,
                pods_cidr=settings.pods_cidr,
                services_cidr=settings.services_cidr,
                psa_cidr=settings.psa_cidr,
                control_plane_cidr=settings.control_plane_cidr,
                node_service_account=nodes_account.email,
                existing_network=settings.existing_network,
                existing_subnetwork=settings.existing_subnetwork,
                existing_pods_range=settings.existing_pods_range,
                existing_services_range=settings.existing_services_range,
                after=after_apis,
            ),
            opts=child,
        )
        cluster = GkeCluster(
            f"{name}-gke",
            GkeClusterArgs(
                naming=naming,
                name=naming.cloud_name("gke", max_length=40),
                project=project,
                location=settings.location,
                network=network.network_id,
                subnetwork=network.subnetwork_id,
                pods_range=network.pods_range,
                services_range=network.services_range,
                release_channel=settings.release_channel,
                min_version=config.kubernetes_version,
                api_access_cidrs=split_list(settings.api_access_cidrs),
                control_plane_cidr=settings.control_plane_cidr,
                node_service_account=nodes_account.email,
                gpu_metrics=gpu.enabled,
                labels=labels,
                after=[*after_apis, *network.ready],
            ),
            opts=child,
        )
        pools = NodePools(
            f"{name}-nodes",
            NodePoolsArgs(
                naming=naming,
                cluster=cluster.id,
                location=settings.location,
                service_account=nodes_account.email,
                pools=node_pools(settings, placement),
                labels=labels,
            ),
            opts=child,
        )
        ready_nodes = list(pools.pools.values())
        kubernetes = pulumi.ResourceOptions(provider=cluster.provider, depends_on=ready_nodes)
        default_class = pd_storage_class(
            f"{name}-pd-balanced",
            naming,
            labels,
            pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), kubernetes),
        )
        namespaces = Namespaces(
            f"{name}-namespaces",
            NamespacesArgs(
                naming=naming,
                names=[GPU_NAMESPACE, MODELS_NAMESPACE],
                stateful=frozenset({GPU_NAMESPACE}),
            ),
            opts=pulumi.ResourceOptions(
                parent=self, providers=[cluster.provider], depends_on=ready_nodes
            ),
        )
        buckets = GcsBuckets(
            f"{name}-buckets",
            GcsBucketsArgs(naming=naming, location=region, roles=BUCKET_ROLES, after=after_apis),
            opts=child,
        )
        identities = WorkloadIdentities(
            f"{name}-identities",
            WorkloadIdentityArgs(
                naming=naming,
                project=project,
                buckets=buckets.names,
                # The workload pool <project>.svc.id.goog exists once the cluster does.
                after=[*after_apis, cluster],
            ),
            opts=child,
        )
        database = CloudSqlPostgres(
            f"{name}-postgres",
            CloudSqlArgs(
                naming=naming,
                region=region,
                zone=zone,
                network=network.network_id,
                allocated_range=network.psa_range_name,
                database_version=settings.db_version,
                tier=settings.db_tier,
                edition=settings.db_edition,
                disk_size=settings.db_disk_size,
                high_availability=settings.db_high_availability,
                proxy_service_account=identities.sql_proxy_email,
                labels=labels,
                after=[*after_apis, *network.ready],
            ),
            opts=child,
        )
        shared = FilestoreSharedFilesystem(
            f"{name}-filestore",
            FilestoreArgs(
                naming=naming,
                zone=zone,
                tier=settings.filestore_tier,
                capacity_gb=settings.filestore_capacity,
                network=network.network_name,
                namespaces={"default": None, GPU_NAMESPACE: namespaces.by_name[GPU_NAMESPACE]},
                kubernetes=kubernetes,
                after=after_apis,
            ),
            opts=child,
        )
        registry = ArtifactRegistry(
            f"{name}-registry",
            ArtifactRegistryArgs(
                naming=naming,
                location=region,
                keep=settings.registry_keep_images,
                node_member=nodes_account.member,
                after=after_apis,
            ),
            opts=child,
        )

        self.contract = TargetContract(
            name="gcp",
            provider=cluster.provider,
            kubernetes_version=config.kubernetes_version,
            cluster_name=cluster.name,
            namespaces=namespaces.by_name,
            object_store=ObjectStore(
                kind="gcs",
                endpoint="",
                region=region,
                secure=True,
                buckets=Buckets.from_roles(buckets.names),
            ),
            storage_access=identities.access,
            postgres=database.postgres,
            shared_fs=shared.shared_fs,
            registry=registry.registry,
            nodes=placement,
            ready=[*ready_nodes, *database.postgres.ready, default_class],
            kubeconfig=cluster.kubeconfig,
            commands={
                "getCredentials": pulumi.Output.concat(
                    "gcloud container clusters get-credentials ",
                    cluster.name,
                    f" --location {settings.location} --project {project}",
                ),
            },
        )
        self.register_outputs({"target": "gcp", "cluster": cluster.name})


def build(naming: Naming, config: StackConfig) -> TargetContract:
    return GcpTarget("cluster", GcpTargetArgs(naming=naming, config=config)).contract
