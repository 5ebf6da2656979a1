"""The CPU and GPU managed node groups, and the tags that let the autoscaler scale them
from zero."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra.naming import Naming
from infra.targets.aws.iam import MANAGED_POLICY, service_trust

AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"
"""Prefix of the cluster-autoscaler's auto-discovery and node-template tags."""

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
"""What the nodes themselves may do: join the cluster and pull images. The VPC CNI's network
permissions are on its own IRSA role, not here, so a pod reaching the node's metadata service
gets nothing beyond these."""

_TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
"""Kubernetes taint effects as the EKS API spells them."""


@dataclass(frozen=True)
class GroupSpec:
    """One managed node group."""

    role: Literal["cpu", "gpu"]
    """Which work the group runs."""
    instance_type: str
    ami_type: str
    """EKS AMI type: AL2023_x86_64_STANDARD, or AL2023_x86_64_NVIDIA (driver included)."""
    min_size: int
    desired_size: int
    max_size: int
    disk_size: int
    """Root volume in GiB."""
    capacity_type: Literal["ON_DEMAND", "SPOT"]
    labels: Mapping[str, str]
    taints: Sequence[tuple[str, str, str]]
    """(key, value, Kubernetes effect)."""
    gpus: int = 0
    """GPUs per node, announced to the autoscaler for scale-from-zero."""


def autoscaler_tags(cluster_name: str, spec: GroupSpec) -> dict[str, str]:
    """Auto-discovery tags, and the node-template tags that tell the autoscaler what a node of
    an empty group would look like (its labels, taints and GPUs), so a pending GPU pod can
    scale the GPU group up from zero."""
    tags = {f"{AUTOSCALER_TAG}/enabled": "true", f"{AUTOSCALER_TAG}/{cluster_name}": "owned"}
    template = f"{AUTOSCALER_TAG}/node-template"
    for key, value in spec.labels.items():
        tags[f"{template}/label/{key}"] = value
    for key, value, effect in spec.taints:
        tags[f"{template}/taint/{key}"] = f"{value}:{effect}"
    if spec.gpus:
        tags[f"{template}/resources/nvidia.com/gpu"] = str(spec.gpus)
    return tags


@dataclass(frozen=True)
class NodeGroupsArgs:
    naming: Naming
    """The stack's naming rules."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster."""
    cluster_name_plain: str
    """The same name as a plain string, for tag keys."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets the nodes run in."""
    groups: Sequence[GroupSpec]
    tags: Mapping[str, str]
    """Tags of every resource."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before a node joins (the VPC CNI add-on)."""


class NodeGroups(pulumi.ComponentResource):
    """The node role and one managed node group per ``GroupSpec``.

    Each group has a launch template: an encrypted gp3 root volume of the configured size, and
    IMDSv2 required. The hop limit stays 2 because add-ons such as the EBS CSI driver read
    their region from the metadata service; the node role holds only ``NODE_POLICIES``.
    After creation the cluster-autoscaler owns each group's desired size, so Pulumi ignores it.
    """

    groups: dict[str, aws.eks.NodeGroup]

    def __init__(self, name: str, args: NodeGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:NodeGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.naming.cloud_name("nodes", max_length=64),
            assume_role_policy=service_trust("ec2.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{policy}",
                role=role.name,
                policy_arn=f"{MANAGED_POLICY}{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        self.groups = {}
        for spec in args.groups:
            group_name = f"{name}-{spec.role}"
            template = aws.ec2.LaunchTemplate(
                f"{group_name}-template",
                name=args.naming.cloud_name(f"{spec.role}-nodes", max_length=128),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=spec.disk_size,
                            volume_type="gp3",
                            encrypted="true",
                            delete_on_termination="true",
                        ),
                    )
                ],
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=2,
                ),
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                    for kind in ("instance", "volume")
                ],
                tags=tags,
                opts=child,
            )
            discovery = autoscaler_tags(args.cluster_name_plain, spec)
            group = aws.eks.NodeGroup(
                group_name,
                cluster_name=args.cluster_name,
                node_group_name=args.naming.cloud_name(spec.role, max_length=63),
                node_role_arn=role.arn,
                subnet_ids=list(args.subnet_ids),
                instance_types=[spec.instance_type],
                ami_type=spec.ami_type,
                capacity_type=spec.capacity_type,
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                    id=template.id, version=template.latest_version.apply(str)
                ),
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=spec.min_size, desired_size=spec.desired_size, max_size=spec.max_size
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels=dict(spec.labels),
                taints=[
                    aws.eks.NodeGroupTaintArgs(key=key, value=value, effect=_TAINT_EFFECTS[effect])
                    for key, value, effect in spec.taints
                ],
                tags={**tags, **discovery},
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*attachments, *args.depends_on],
                    ignore_changes=["scalingConfig.desiredSize"],
                ),
            )
            # EKS does not copy a node group's tags to its Auto Scaling group, where the
            # autoscaler reads them; tag the group directly.
            asg = group.resources.apply(
                lambda resources: resources[0].autoscaling_groups[0].name  # type: ignore[index]
            )
            for key, value in discovery.items():
                aws.autoscaling.Tag(
                    f"{group_name}-asg-tag-{_slug(key)}",
                    autoscaling_group_name=asg,
                    tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                    opts=pulumi.ResourceOptions(parent=group),
                )
            self.groups[spec.role] = group
        self.register_outputs(
            {"groups": {role: g.node_group_name for role, g in self.groups.items()}}
        )


def _slug(tag_key: str) -> str:
    """A tag key as part of a logical name."""
    return tag_key.removeprefix(f"{AUTOSCALER_TAG}/").replace("/", "-").replace(".", "-")
