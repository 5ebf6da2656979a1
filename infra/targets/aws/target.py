"""The AWS target: a VPC, EKS with CPU and GPU node groups, S3, RDS, EFS and ECR.

Everything is created in the configured region through one explicit AWS provider, tagged with
the stack's tag set, and described to the layers above with a ``TargetContract``. Stateful
resources (buckets, database, file system, encryption key) are protected unless the stack is
ephemeral.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.stack import StackConfig
from infra.contract import (
    BUCKET_ROLES,
    FLOW_IMAGES,
    Buckets,
    NodePlacement,
    ObjectStore,
    TargetContract,
)
from infra.naming import Naming
from infra.platform.config import split_label, split_taint
from infra.targets.aws.addons import AddonsArgs, ClusterAddons
from infra.targets.aws.autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from infra.targets.aws.cluster import EksCluster, EksClusterArgs
from infra.targets.aws.config import GPU_INSTANCE_GPUS, AwsConfig
from infra.targets.aws.database import RdsPostgres, RdsPostgresArgs
from infra.targets.aws.efs import EfsArgs, EfsSharedFilesystem
from infra.targets.aws.identity import WorkloadIdentities, WorkloadIdentityArgs
from infra.targets.aws.network import Network, NetworkArgs
from infra.targets.aws.node_groups import GroupSpec, NodeGroups, NodeGroupsArgs
from infra.targets.aws.registry import EcrArgs, EcrRepositories
from infra.targets.aws.storage import BucketsArgs, S3Buckets, gp3_storage_class
from infra.targets.common.namespaces import (
    GPU_NAMESPACE,
    MODELS_NAMESPACE,
    Namespaces,
    NamespacesArgs,
)
from infra.values import split_list

DATA_NAMESPACE = "pdk-data"
"""Holds the database password Secret and the Job that creates the databases."""

LB_TAGS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags"
"""Read by both the AWS cloud provider and the AWS Load Balancer Controller: tags for the load
balancer a LoadBalancer Service creates, which Pulumi never sees (the leak query needs them)."""


def node_groups(config: StackConfig, placement: NodePlacement) -> list[GroupSpec]:
    """The CPU group, and the GPU group when the stack has GPUs."""
    aws_config = config.section(AwsConfig)
    groups = [
        GroupSpec(
            role="cpu",
            instance_type=aws_config.cpu.instance_type,
            ami_type="AL2023_x86_64_STANDARD",
            min_size=aws_config.cpu.min_size,
            desired_size=aws_config.cpu.desired_size,
            max_size=aws_config.cpu.max_size,
            disk_size=aws_config.cpu.disk_size,
            capacity_type="ON_DEMAND",
            labels=dict([placement.cpu_label]),
            taints=(),
        )
    ]
    if placement.gpu_enabled:
        family, _, size = aws_config.gpu.instance_type.partition(".")
        groups.append(
            GroupSpec(
                role="gpu",
                instance_type=aws_config.gpu.instance_type,
                # Amazon Linux 2023 with the NVIDIA driver; the device plugin is not included.
                ami_type="AL2023_x86_64_NVIDIA",
                min_size=aws_config.gpu.min_size,
                desired_size=aws_config.gpu.desired_size,
                max_size=aws_config.gpu.max_size,
                disk_size=aws_config.gpu.disk_size,
                capacity_type=aws_config.gpu.capacity_type,
                labels=dict([placement.gpu_label]),
                taints=(placement.gpu_taint,),
                gpus=GPU_INSTANCE_GPUS[family][size],
            )
        )
    return groups


@dataclass(frozen=True)
class AwsClusterArgs:
    naming: Naming
    """The stack's naming rules."""
    config: StackConfig
    """The validated stack config; this target reads its ``AwsConfig`` section, ``gpu``,
    ``shared_fs``, ``postgres.image`` and ``kubernetes_version``."""


class AwsCluster(pulumi.ComponentResource):
    """Creates the AWS side of a PDK deployment and fills the target contract."""

    contract: TargetContract

    def __init__(self, name: str, args: AwsClusterArgs, opts: pulumi.ResourceOptions | None = None):
        config, naming = args.config, args.naming
        aws_config = config.section(AwsConfig)
        super().__init__("pdk:target:AwsCluster", name, None, opts)
        # One explicit provider: the region comes from the stack, never from the environment.
        provider = aws.Provider(
            f"{name}-aws", region=aws_config.region, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, providers=[provider])
        tags = naming.tags
        cluster_name = naming.cloud_name("eks", max_length=100)
        gpu = config.gpu
        placement = NodePlacement(
            gpu_enabled=gpu.enabled,
            gpu_label=split_label(gpu.node_label),
            gpu_taint=split_taint(gpu.taint),
            cpu_label=split_label(gpu.cpu_node_label),
            # The AL2023 NVIDIA AMI has the driver but not the Kubernetes device plugin.
            needs_device_plugin=gpu.enabled,
        )

        network = Network(
            f"{name}-network",
            NetworkArgs(
                naming=naming,
                region=aws_config.region,
                cluster_name=cluster_name,
                tags=tags,
                zones=aws_config.zones,
                cidr=aws_config.vpc_cidr,
                nat_gateways=aws_config.nat_gateways,
                existing_vpc_id=aws_config.existing_vpc_id,
                existing_private_subnet_ids=split_list(aws_config.private_subnet_ids),
                existing_public_subnet_ids=split_list(aws_config.public_subnet_ids),
            ),
            opts=child,
        )
        cluster = EksCluster(
            f"{name}-eks",
            EksClusterArgs(
                naming=naming,
                name=cluster_name,
                region=aws_config.region,
                version=config.kubernetes_version,
                subnet_ids=network.private_subnet_ids,
                api_access_cidrs=split_list(aws_config.api_access_cidrs),
                tags=tags,
            ),
            opts=child,
        )
        networking_addons = ClusterAddons(
            f"{name}-addons-network",
            AddonsArgs(
                naming=naming,
                cluster_name=cluster.name,
                kubernetes_version=config.kubernetes_version,
                oidc=cluster.oidc,
                tags=tags,
                before_nodes=True,
            ),
            opts=child,
        )
        nodes = NodeGroups(
            f"{name}-nodes",
            NodeGroupsArgs(
                naming=naming,
                cluster_name=cluster.name,
                cluster_name_plain=cluster_name,
                subnet_ids=network.private_subnet_ids,
                groups=node_groups(config, placement),
                tags=tags,
                depends_on=networking_addons.addons,
            ),
            opts=child,
        )
        addons = ClusterAddons(
            f"{name}-addons",
            AddonsArgs(
                naming=naming,
                cluster_name=cluster.name,
                kubernetes_version=config.kubernetes_version,
                oidc=cluster.oidc,
                tags=tags,
                before_nodes=False,
                depends_on=list(nodes.groups.values()),
            ),
            opts=child,
        )
        on_cluster = pulumi.ResourceOptions(parent=self, providers=[provider, cluster.provider])
        autoscaler = ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                naming=naming,
                cluster_name=cluster_name,
                region=aws_config.region,
                oidc=cluster.oidc,
                chart_version=aws_config.cluster_autoscaler_chart_version,
                image=aws_config.cluster_autoscaler_image,
                node_selector=dict([placement.cpu_label]),
                tags=tags,
                depends_on=addons.addons,
            ),
            opts=on_cluster,
        )
        kubernetes = pulumi.ResourceOptions(provider=cluster.provider, depends_on=addons.addons)
        default_class = gp3_storage_class(
            f"{name}-gp3", naming, pulumi.ResourceOptions.merge(child, kubernetes)
        )
        namespaces = Namespaces(
            f"{name}-namespaces",
            NamespacesArgs(
                naming=naming,
                names=[DATA_NAMESPACE, GPU_NAMESPACE, MODELS_NAMESPACE],
                stateful=frozenset({GPU_NAMESPACE}),
            ),
            opts=pulumi.ResourceOptions(parent=self, providers=[cluster.provider]),
        )

        buckets = S3Buckets(
            f"{name}-buckets",
            BucketsArgs(naming=naming, roles=BUCKET_ROLES, tags=tags),
            opts=child,
        )
        identities = WorkloadIdentities(
            f"{name}-identities",
            WorkloadIdentityArgs(
                naming=naming, oidc=cluster.oidc, bucket_arns=buckets.arns, tags=tags
            ),
            opts=child,
        )
        shared = EfsSharedFilesystem(
            f"{name}-efs",
            EfsArgs(
                naming=naming,
                vpc_id=network.vpc_id,
                vpc_cidr=network.vpc_cidr,
                subnet_ids=network.private_subnet_ids,
                size=config.shared_fs.size,
                namespaces={"default": None, GPU_NAMESPACE: namespaces.by_name[GPU_NAMESPACE]},
                tags=tags,
                kubernetes=kubernetes,
            ),
            opts=child,
        )
        database = RdsPostgres(
            f"{name}-postgres",
            RdsPostgresArgs(
                naming=naming,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                client_security_group_id=cluster.security_group_id,
                instance_class=aws_config.db_instance_class,
                engine_version=aws_config.db_engine_version,
                storage_gib=aws_config.db_storage_size,
                multi_az=aws_config.db_multi_az,
                tags=tags,
                namespace=namespaces.by_name[DATA_NAMESPACE].metadata.name,
                client_image=config.postgres.image,
                region=aws_config.region,
                kubernetes=kubernetes,
            ),
            opts=child,
        )
        registry = EcrRepositories(
            f"{name}-registry",
            EcrArgs(naming=naming, images=FLOW_IMAGES, keep=aws_config.ecr_keep_images, tags=tags),
            opts=child,
        )

        region = aws_config.region
        self.contract = TargetContract(
            name="aws",
            provider=cluster.provider,
            kubernetes_version=config.kubernetes_version,
            cluster_name=cluster.name,
            namespaces=namespaces.by_name,
            object_store=ObjectStore(
                kind="s3",
                endpoint=f"https://s3.{region}.amazonaws.com",
                region=region,
                secure=True,
                buckets=Buckets.from_roles(buckets.names),
            ),
            storage_access=identities.access,
            postgres=database.postgres,
            shared_fs=shared.shared_fs,
            registry=registry.registry,
            nodes=placement,
            ready=[*addons.addons, *database.postgres.ready, default_class, autoscaler],
            kubeconfig=cluster.kubeconfig,
            load_balancer_annotations={
                LB_TAGS_ANNOTATION: ",".join(f"{k}={v}" for k, v in sorted(naming.tags.items()))
            },
            commands={
                "updateKubeconfig": pulumi.Output.concat(
                    "aws eks update-kubeconfig --name ", cluster.name, " --region ", region
                ),
                "postgresPassword": (
                    f"kubectl -n {DATA_NAMESPACE} get secret postgres-credentials "
                    "-o jsonpath='{.data.password}' | base64 -d"
                ),
            },
        )
        self.register_outputs({"target": "aws", "cluster": cluster.name})


def build(naming: Naming, config: StackConfig) -> TargetContract:
    return AwsCluster("cluster", AwsClusterArgs(naming=naming, config=config)).contract
