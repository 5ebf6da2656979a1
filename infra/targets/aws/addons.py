"""EKS managed add-ons, each with the IRSA role it needs.

Add-on versions are AWS's default for the cluster's Kubernetes version, looked up at deploy
time (``aws eks describe-addon-versions``), so they move only when the cluster version does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.contract import ServiceAccountRef
from infra.naming import Naming
from infra.targets.aws.iam import Oidc, service_account_role


@dataclass(frozen=True)
class Addon:
    """One managed add-on and the AWS permissions of its controller."""

    name: str
    """The add-on's EKS name."""
    account: ServiceAccountRef | None
    """The controller's service account, when it calls AWS APIs."""
    managed_policies: tuple[str, ...] = ()
    before_nodes: bool = False
    """Networking add-ons go in before nodes join; the rest need nodes to become active."""


ADDONS = (
    Addon(
        "vpc-cni",
        ServiceAccountRef("kube-system", "aws-node"),
        ("AmazonEKS_CNI_Policy",),
        before_nodes=True,
    ),
    Addon("kube-proxy", None, before_nodes=True),
    Addon("coredns", None),
    Addon(
        "aws-ebs-csi-driver",
        ServiceAccountRef("kube-system", "ebs-csi-controller-sa"),
        ("service-role/AmazonEBSCSIDriverPolicy",),
    ),
    Addon(
        "aws-efs-csi-driver",
        ServiceAccountRef("kube-system", "efs-csi-controller-sa"),
        ("service-role/AmazonEFSCSIDriverPolicy",),
    ),
)


def addon_configuration(addon_name: str, tags: Mapping[str, str]) -> str | None:
    """The add-on's ``configuration_values`` (JSON), or None to keep AWS's defaults.

    The EBS CSI controller tags every volume it creates with ``controller.extraVolumeTags``
    (aws-ebs-csi-driver chart, values.yaml: "Extra volume tags to attach to each dynamically
    provisioned volume"; the add-on takes the chart's values), whatever StorageClass the claim
    names, so a disk left by any claim carries the deployment id. The gp3 class's
    ``tagSpecification_N`` covers the same for its own volumes.
    """
    if addon_name == "aws-ebs-csi-driver":
        return json.dumps({"controller": {"extraVolumeTags": dict(sorted(tags.items()))}})
    return None


@dataclass(frozen=True)
class AddonsArgs:
    naming: Naming
    """The stack's naming rules."""
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    oidc: Oidc
    tags: Mapping[str, str]
    """Tags of every resource."""
    before_nodes: bool
    """Which half to install: the networking add-ons (True) or the rest (False)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (the node groups, for the second half)."""


class ClusterAddons(pulumi.ComponentResource):
    """Installs one half of ``ADDONS``: networking before the nodes, the rest after."""

    addons: list[aws.eks.Addon]

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:ClusterAddons", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.addons = []
        for addon in ADDONS:
            if addon.before_nodes != args.before_nodes:
                continue
            role = (
                service_account_role(
                    f"{name}-{addon.name}-role",
                    name=args.naming.cloud_name(addon.name, max_length=64),
                    oidc=args.oidc,
                    accounts=[addon.account],
                    tags=args.tags,
                    managed_policies=addon.managed_policies,
                    opts=child,
                )
                if addon.account
                else None
            )
            version = aws.eks.get_addon_version_output(
                addon_name=addon.name,
                kubernetes_version=args.kubernetes_version,
                most_recent=False,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            self.addons.append(
                aws.eks.Addon(
                    f"{name}-{addon.name}",
                    cluster_name=args.cluster_name,
                    addon_name=addon.name,
                    addon_version=version.version,
                    service_account_role_arn=role.arn if role else None,
                    configuration_values=addon_configuration(addon.name, args.tags),
                    # Our declaration wins over manual edits, and an update never leaves the
                    # add-on half-applied.
                    resolve_conflicts_on_create="OVERWRITE",
                    resolve_conflicts_on_update="OVERWRITE",
                    tags=dict(args.tags),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
                )
            )
        self.register_outputs({"addons": [a.addon_name for a in self.addons]})
