"""Istio: the network layer under Knative (KServe Serverless mode). Its ingress gateway stays
inside the cluster; the edge gateway (``gateway.py``) hands it every model host."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra import charts
from infra.platform.endpoints import Endpoint
from infra.sizing import Size, resources

NAMESPACE = "istio-system"
GATEWAY_SERVICE = "istio-ingressgateway"
"""The gateway's Service and release name. Knative's net-istio and KServe select the gateway
pods by the ``istio: ingressgateway`` label, which the gateway chart derives from this name."""
GATEWAY_ENDPOINT = Endpoint(NAMESPACE, GATEWAY_SERVICE, 80, "http", port_name="http2")
"""Its plain-HTTP port (the chart names port 80 ``http2``), reached from the edge gateway only."""


@dataclass(frozen=True)
class IstioArgs:
    chart_version: str
    """Version of the base, istiod and gateway charts (always the same)."""
    size: Size = "standard"
    """``platformSize``: requests and limits of istiod and the gateway."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The stack's label set, for the namespace (the charts label their own objects)."""


class Istio(pulumi.ComponentResource):
    """Istio in three releases, each waiting for the one before: CRDs, control plane, gateway."""

    namespace: k8s.core.v1.Namespace
    base: k8s.helm.v3.Release
    istiod: k8s.helm.v3.Release
    gateway: k8s.helm.v3.Release

    def __init__(self, name: str, args: IstioArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:Istio", name, None, opts)
        version = args.chart_version
        self.namespace = charts.namespace(
            f"{name}-namespace", NAMESPACE, args.labels, pulumi.ResourceOptions(parent=self)
        )
        self.base = charts.release(
            f"{name}-base",
            chart=charts.ISTIO_BASE,
            version=version,
            release_name="istio-base",
            namespace=NAMESPACE,
            values={"defaultRevision": "default"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.istiod = charts.release(
            f"{name}-istiod",
            chart=charts.ISTIOD,
            version=version,
            release_name="istiod",
            namespace=NAMESPACE,
            values={
                "pilot": {
                    "autoscaleEnabled": False,
                    "resources": resources("istiod", args.size).values(),
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.base]),
        )
        self.gateway = charts.release(
            f"{name}-gateway",
            chart=charts.ISTIO_GATEWAY,
            version=version,
            release_name=GATEWAY_SERVICE,
            namespace=NAMESPACE,
            values={
                "labels": {"istio": "ingressgateway"},
                # Not exposed: users reach models through the edge gateway.
                "service": {"type": "ClusterIP"},
                "resources": resources("istio-gateway", args.size).values(),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.istiod]),
        )
        self.register_outputs({"gateway": self.gateway.name})
