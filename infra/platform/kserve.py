"""KServe: the InferenceService CRDs and controller, in Serverless or RawDeployment mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from infra import charts

NAMESPACE = "kserve"
HOST_TEMPLATE = "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}"
"""Knative names routes <name>.<namespace>.<domain>; RawDeployment uses the same template, so a
model's Host header does not depend on the mode."""
_RENAMED_IN = (0, 17)
"""KServe 0.17 renamed the resources chart (kserve -> kserve-resources) and the modes
(Serverless -> Knative, RawDeployment -> Standard)."""


def _version(text: str) -> tuple[int, int]:
    major, minor, *_ = text.removeprefix("v").split(".")
    return int(major), int(minor)


def chart_for(version: str) -> charts.Chart:
    """The resources chart under the name it has at ``version``."""
    if _version(version) >= _RENAMED_IN:
        return charts.Chart("oci://ghcr.io/kserve/charts/kserve-resources", None)
    return charts.Chart("oci://ghcr.io/kserve/charts/kserve", None)


def mode_value(version: str, mode: Literal["Serverless", "RawDeployment"]) -> str:
    """The deployment mode as the controller at ``version`` names it."""
    if _version(version) >= _RENAMED_IN:
        return {"Serverless": "Knative", "RawDeployment": "Standard"}[mode]
    return mode


@dataclass(frozen=True)
class KServeArgs:
    chart_version: str
    """Version of the kserve-crd and resources charts."""
    mode: Literal["Serverless", "RawDeployment"]
    """Serverless (Knative + Istio) or RawDeployment (Deployments behind the edge gateway)."""
    domain: str
    """Domain of model host names."""
    gateway: str
    """``NAMESPACE/NAME`` of the Gateway that RawDeployment models' HTTPRoutes attach to."""
    url_scheme: str
    """Scheme of the URLs KServe reports (https behind a TLS gateway)."""
    prerequisites: Sequence[pulumi.Resource]
    """cert-manager, and in Serverless mode Knative and the Istio gateway."""


class KServe(pulumi.ComponentResource):
    """The CRD chart, then the controller chart (which brings the ClusterServingRuntimes,
    TorchServe included)."""

    crds: k8s.helm.v3.Release
    controller: k8s.helm.v3.Release

    def __init__(self, name: str, args: KServeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:KServe", name, None, opts)
        prerequisites = list(args.prerequisites)
        self.crds = charts.release(
            f"{name}-crds",
            chart=charts.KSERVE_CRD,
            version=args.chart_version,
            release_name="kserve-crd",
            namespace=NAMESPACE,
            values={},
            opts=pulumi.ResourceOptions(parent=self, depends_on=prerequisites),
        )
        serverless = args.mode == "Serverless"
        gateway: dict[str, object] = {
            "domain": args.domain,
            "domainTemplate": HOST_TEMPLATE,
            "urlScheme": args.url_scheme,
            "ingressGateway": (
                {"className": "istio", "gateway": "knative-serving/knative-ingress-gateway"}
                if serverless
                # KServe's Gateway API support (v0.15+): one HTTPRoute per model, attached to
                # the edge Gateway; the chart must not create a Gateway of its own.
                else {
                    "enableGatewayApi": True,
                    "kserveGateway": args.gateway,
                    "createGateway": False,
                }
            ),
        }
        self.controller = charts.release(
            f"{name}-controller",
            chart=chart_for(args.chart_version),
            version=args.chart_version,
            release_name="kserve",
            namespace=NAMESPACE,
            values={
                "kserve": {
                    "controller": {
                        "deploymentMode": mode_value(args.chart_version, args.mode),
                        "gateway": gateway,
                    }
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.crds, *prerequisites]),
        )
        self.register_outputs({"mode": args.mode})
