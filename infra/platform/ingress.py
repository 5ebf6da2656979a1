"""ingress-nginx and the Ingress that puts the MLDE master behind it.

In KServe's RawDeployment mode the same controller also carries model traffic (KServe then
creates Ingress objects of this class).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import charts
from infra.naming import Naming
from infra.platform.endpoints import Endpoint
from infra.platform.exposure import Exposure

NAMESPACE = "ingress-nginx"
CLASS_NAME = "nginx"
CONTROLLER_SERVICE = "ingress-nginx-controller"
"""Service name the chart derives from the release name ``ingress-nginx``."""
MLDE_INGRESS = "mlde-ingress"
BODY_SIZE = "160m"
"""MLDE uploads experiment code (model definitions) through the master's REST API; nginx's
default 1m cap rejects anything but the smallest."""


@dataclass(frozen=True)
class IngressArgs:
    naming: Naming
    """The stack's naming rules."""
    chart_version: str
    """Version of the ingress-nginx chart."""
    exposure: Exposure
    """How the controller is reached from outside the cluster."""
    mlde: Endpoint
    """The MLDE master, routed at ``/``."""
    mlde_ready: Sequence[pulumi.Resource]
    """What creates the MLDE master service."""


class IngressController(pulumi.ComponentResource):
    """ingress-nginx (its own IngressClass, not the cluster default) and ``mlde-ingress``."""

    release: k8s.helm.v3.Release
    mlde_ingress: k8s.networking.v1.Ingress
    endpoint: Endpoint
    """The controller's HTTP port inside the cluster."""

    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:IngressController", name, None, opts)
        self.release = charts.release(
            f"{name}-release",
            chart=charts.INGRESS_NGINX,
            version=args.chart_version,
            release_name="ingress-nginx",
            namespace=NAMESPACE,
            values={
                "controller": {
                    "ingressClassResource": {"name": CLASS_NAME, "default": False},
                    "ingressClass": CLASS_NAME,
                    "service": args.exposure.service_values(),
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.endpoint = Endpoint(NAMESPACE, CONTROLLER_SERVICE, 80, "http")
        self.mlde_ingress = k8s.networking.v1.Ingress(
            f"{name}-mlde",
            metadata=args.naming.metadata(
                MLDE_INGRESS,
                args.mlde.namespace,
                {"app.kubernetes.io/component": "mlde"},
                {"nginx.ingress.kubernetes.io/proxy-body-size": BODY_SIZE},
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=CLASS_NAME,
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name=args.mlde.service,
                                            port=k8s.networking.v1.ServiceBackendPortArgs(
                                                number=args.mlde.port
                                            ),
                                        )
                                    ),
                                )
                            ]
                        )
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, *args.mlde_ready]),
        )
        self.register_outputs({"release": self.release.name})
