"""cert-manager: issues the gateway's certificates and those of KServe's admission webhooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra import charts
from infra.sizing import Size, resources

NAMESPACE = "cert-manager"


@dataclass(frozen=True)
class CertManagerArgs:
    chart_version: str
    """Version of the jetstack/cert-manager chart."""
    size: Size = "standard"
    """``platformSize``: requests and limits of its four workloads."""
    gateway_api: bool = False
    """Let ACME HTTP-01 solvers create Gateway API routes (needs the Gateway API CRDs)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What installs the Gateway API CRDs, with ``gateway_api``."""
    keep_crds: bool = True
    """Leave the CRDs (and so every Certificate in the cluster) on uninstall; False for
    ephemeral stacks, whose destroy must leave nothing behind."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The stack's label set, for the namespace (the chart labels its own objects)."""


class CertManager(pulumi.ComponentResource):
    """cert-manager with its CRDs, installed and upgraded by the chart, in its own namespace."""

    namespace: k8s.core.v1.Namespace
    release: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:platform:CertManager", name, None, opts)
        values: dict[str, Any] = {
            # The chart owns the CRDs so upgrades move them with the controller; keep them
            # on uninstall unless the stack is ephemeral, since deleting a CRD deletes every
            # certificate in the cluster.
            "crds": {"enabled": True, "keep": args.keep_crds},
            "resources": resources("cert-manager", args.size).values(),
            "webhook": {"resources": resources("cert-manager-webhook", args.size).values()},
            "cainjector": {"resources": resources("cert-manager-cainjector", args.size).values()},
            "startupapicheck": {
                "resources": resources("cert-manager-startupapicheck", args.size).values()
            },
        }
        if args.gateway_api:
            values["config"] = {
                "apiVersion": "controller.config.cert-manager.io/v1alpha1",
                "kind": "ControllerConfiguration",
                "enableGatewayAPI": True,
            }
        self.namespace = charts.namespace(
            f"{name}-namespace", NAMESPACE, args.labels, pulumi.ResourceOptions(parent=self)
        )
        self.release = charts.release(
            f"{name}-release",
            chart=charts.CERT_MANAGER,
            version=args.chart_version,
            release_name="cert-manager",
            namespace=NAMESPACE,
            values=values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *args.depends_on]),
        )
        self.register_outputs({"release": self.release.name})
