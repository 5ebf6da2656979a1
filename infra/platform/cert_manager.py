"""cert-manager: issues the serving certificates of KServe's admission webhooks."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import charts

NAMESPACE = "cert-manager"


@dataclass(frozen=True)
class CertManagerArgs:
    chart_version: str
    """Version of the jetstack/cert-manager chart."""


class CertManager(pulumi.ComponentResource):
    """cert-manager with its CRDs, installed and upgraded by the chart."""

    release: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:platform:CertManager", name, None, opts)
        self.release = charts.release(
            f"{name}-release",
            chart=charts.CERT_MANAGER,
            version=args.chart_version,
            release_name="cert-manager",
            namespace=NAMESPACE,
            values={
                # The chart owns the CRDs so upgrades move them with the controller; keep them
                # on uninstall, since deleting a CRD deletes every certificate in the cluster.
                "crds": {"enabled": True, "keep": True},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"release": self.release.name})
