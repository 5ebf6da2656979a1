"""The nodes' own Google service account, with only what a GKE node needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.naming import Naming

NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""Logging, monitoring and metadata writes a node makes (GKE's "least privilege node service
account" role). Image pulls from the stack's registry are granted on that repository alone."""


@dataclass(frozen=True)
class NodeAccountArgs:
    naming: Naming
    """The stack's naming rules."""
    project: str
    """Project the roles are granted in."""
    after: Sequence[pulumi.Resource] = ()
    """What every resource here waits for (the project's APIs)."""


class NodeServiceAccount(pulumi.ComponentResource):
    """Replaces the Compute Engine default account (Editor on the project, and disabled in
    some organisations; terraform-provider-google#17511) as the identity of every node.
    Workloads never act as it: node pools run the GKE metadata server, so pods get only
    their Workload Identity."""

    email: pulumi.Output[str]
    member: pulumi.Output[str]

    def __init__(
        self, name: str, args: NodeAccountArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:gcp:NodeServiceAccount", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=args.naming.cloud_name("nodes", max_length=30),
            display_name="PDK GKE nodes",
            opts=child,
        )
        for role in NODE_ROLES:
            gcp.projects.IAMMember(
                f"{name}-{role.rsplit('.', 1)[-1]}",
                project=args.project,
                role=role,
                member=account.member,
                opts=child,
            )
        self.email = account.email
        self.member = account.member
        self.register_outputs({"email": self.email})
