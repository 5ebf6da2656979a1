"""The cluster-autoscaler, discovering the node groups by tag, with its IRSA role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from infra import charts
from infra.contract import ServiceAccountRef
from infra.naming import Naming
from infra.sizing import resources
from infra.targets.aws.iam import ROLE_ARN_ANNOTATION, Oidc, document, service_account_role
from infra.targets.aws.node_groups import AUTOSCALER_TAG

ACCOUNT = ServiceAccountRef("kube-system", "cluster-autoscaler")


def autoscaler_policy(cluster_name: str, region: str) -> str:
    """Read anything it must inspect; change only Auto Scaling groups tagged as this
    cluster's own."""
    return document(
        [
            {
                # Describe calls accept no resource-level restriction.
                "Sid": "Inspect",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ReadNodeGroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": f"arn:aws:eks:{region}:*:nodegroup/{cluster_name}/*",
            },
            {
                "Sid": "ScaleOwnGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{AUTOSCALER_TAG}/{cluster_name}": "owned"}
                },
            },
        ]
    )


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    naming: Naming
    """The stack's naming rules."""
    cluster_name: str
    region: str
    oidc: Oidc
    chart_version: str
    image: str
    """Pinned image; its minor version equals the cluster's."""
    node_selector: Mapping[str, str]
    """Runs on the CPU nodes, never on a GPU node it might scale away."""
    tags: Mapping[str, str]
    depends_on: Sequence[pulumi.Resource] = ()


class ClusterAutoscaler(pulumi.ComponentResource):
    """cluster-autoscaler with the least-waste expander and auto-discovery by tag."""

    def __init__(
        self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:ClusterAutoscaler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = service_account_role(
            f"{name}-role",
            name=args.naming.cloud_name("cluster-autoscaler", max_length=64),
            oidc=args.oidc,
            accounts=[ACCOUNT],
            tags=args.tags,
            inline_policy=autoscaler_policy(args.cluster_name, args.region),
            opts=child,
        )
        repository, _, tag = args.image.rpartition(":")
        self.release = charts.release(
            f"{name}-release",
            chart=charts.CLUSTER_AUTOSCALER,
            version=args.chart_version,
            release_name="cluster-autoscaler",
            namespace=ACCOUNT.namespace,
            values={
                "cloudProvider": "aws",
                "awsRegion": args.region,
                "autoDiscovery": {"clusterName": args.cluster_name},
                "image": {"repository": repository, "tag": tag},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        "name": ACCOUNT.name,
                        "annotations": {ROLE_ARN_ANNOTATION: role.arn},
                    }
                },
                "extraArgs": {
                    "expander": "least-waste",
                    "balance-similar-node-groups": True,
                    "skip-nodes-with-system-pods": False,
                },
                "nodeSelector": dict(args.node_selector),
                "priorityClassName": "system-cluster-critical",
                "resources": resources("cluster-autoscaler", "standard").values(),
                # A static binary: any non-root user runs it.
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65532},
                "containerSecurityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, *args.depends_on]),
        )
        self.register_outputs({"role": role.arn})
