"""NetworkPolicies of the data namespace: nothing reaches Postgres and MinIO but their clients.

Without them every pod in the cluster can open a connection to the database and the object
store; passwords are then the only barrier. The namespace denies all ingress by default, and
each server admits exactly the peers listed in ``infra.contract`` plus its own setup Job.
(Policies take effect only where the cluster's network plugin enforces them, e.g. Calico or
Cilium; check yours.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import PodPeer
from infra.naming import Naming

NAMESPACE_LABEL = "kubernetes.io/metadata.name"
"""Set by Kubernetes on every namespace (1.22+): a namespace selector that cannot be forged by
labelling a namespace."""


@dataclass(frozen=True)
class ServerPolicy:
    """Who may reach one server."""

    name: str
    """The NetworkPolicy's name."""
    server: Mapping[str, str]
    """The server pods' labels."""
    port: int
    """The port clients use."""
    clients: Sequence[PodPeer]
    """Peers in other (or this) namespaces."""


@dataclass(frozen=True)
class DataNetworkPoliciesArgs:
    naming: Naming
    """The stack's naming rules."""
    namespace: str
    """The data namespace (Postgres, MinIO)."""
    servers: Sequence[ServerPolicy]
    """One policy per server."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The namespace."""


def setup_peer(namespace: str, server: Mapping[str, str]) -> PodPeer:
    """A server's own setup Job (``setup_job`` labels its pods with the server's name)."""
    return PodPeer(
        namespace,
        {
            "app.kubernetes.io/name": server["app.kubernetes.io/name"],
            "app.kubernetes.io/component": "setup",
        },
    )


def _peer(peer: PodPeer) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={NAMESPACE_LABEL: peer.namespace}
        ),
        pod_selector=(
            k8s.meta.v1.LabelSelectorArgs(match_labels=dict(peer.labels))
            if peer.labels is not None
            else None
        ),
    )


class DataNetworkPolicies(pulumi.ComponentResource):
    """Default-deny ingress in the data namespace, and one allow-list per server."""

    def __init__(
        self, name: str, args: DataNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:DataNetworkPolicies", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        labels = {"app.kubernetes.io/component": "network-policy"}
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=naming.metadata("default-deny-ingress", args.namespace, labels),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress"]
            ),
            opts=child,
        )
        for server in args.servers:
            peers = [*server.clients, setup_peer(args.namespace, server.server)]
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{server.name}",
                metadata=naming.metadata(server.name, args.namespace, labels),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(server.server)),
                    policy_types=["Ingress"],
                    ingress=[
                        k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                            from_=[_peer(peer) for peer in peers],
                            ports=[
                                k8s.networking.v1.NetworkPolicyPortArgs(
                                    protocol="TCP", port=server.port
                                )
                            ],
                        )
                    ],
                ),
                opts=child,
            )
        self.register_outputs({})
