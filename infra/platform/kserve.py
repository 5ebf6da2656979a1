"""KServe: the InferenceService CRDs and controller, in Serverless or RawDeployment mode, and
the serving runtime the flow's models run on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra import charts, versions
from infra.platform.config import kserve_renamed, kserve_resources_chart

NAMESPACE = "kserve"
HOST_TEMPLATE = "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}"
"""Knative names routes <name>.<namespace>.<domain>; RawDeployment uses the same template, so a
model's Host header does not depend on the mode."""


def chart_for(version: str) -> charts.Chart:
    """The resources chart under the name it has at ``version``."""
    return charts.Chart(f"oci://ghcr.io/kserve/charts/{kserve_resources_chart(version)}", None)


def mode_value(version: str, mode: Literal["Serverless", "RawDeployment"]) -> str:
    """The deployment mode as the controller at ``version`` names it."""
    if kserve_renamed(version):
        return {"Serverless": "Knative", "RawDeployment": "Standard"}[mode]
    return mode


RUNTIME = "pdk-torchserve"
"""The ClusterServingRuntime the flow's InferenceServices select (model format ``pytorch``)."""
RUNTIME_FORMATS = ({"name": "pytorch", "version": "1", "autoSelect": True, "priority": 1},)
RUNTIME_PROTOCOLS = ("v1",)
"""Only KServe protocol v1: the flow's handlers parse the v1 body themselves (the model's
``config.properties`` turns TorchServe's envelope off, see ``pdk_assets.serving``)."""


def serving_runtime(image: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``ClusterServingRuntime`` manifest: TorchServe started on the model store and the
    ``config.properties`` the flow's deploy step uploads (``pdk_assets.serving``), with the
    model server's port and metrics path as KServe's own TorchServe runtime declares them."""
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ClusterServingRuntime",
        "metadata": {
            "name": RUNTIME,
            "labels": {**(labels or {}), "app.kubernetes.io/component": "serving-runtime"},
            "annotations": {"serving.kserve.io/server-type": "torchserve"},
        },
        "spec": {
            "annotations": {
                "prometheus.kserve.io/port": "8082",
                "prometheus.kserve.io/path": "/metrics",
            },
            "supportedModelFormats": [dict(f) for f in RUNTIME_FORMATS],
            "protocolVersions": list(RUNTIME_PROTOCOLS),
            "containers": [
                {
                    "name": "kserve-container",
                    "image": image,
                    "args": [
                        "torchserve",
                        "--start",
                        "--model-store=/mnt/models/model-store",
                        "--ts-config=/mnt/models/config/config.properties",
                    ],
                    "securityContext": {
                        # The image defines no numeric user; TorchServe runs as 1000 in it.
                        "runAsUser": 1000,
                        "runAsNonRoot": True,
                        "allowPrivilegeEscalation": False,
                        "privileged": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "resources": {
                        "requests": {"cpu": "1", "memory": "2Gi"},
                        "limits": {"cpu": "1", "memory": "2Gi"},
                    },
                }
            ],
        },
    }


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
    labels: Mapping[str, str] = field(default_factory=dict)
    """The stack's label set, for the objects declared here (the charts label their own)."""
    runtime_image: str = versions.TORCHSERVE_RUNTIME.version
    """TorchServe image of the ``pdk-torchserve`` runtime; its torch must be the deploy image's
    (``infra.versions``)."""


class KServe(pulumi.ComponentResource):
    """The CRD chart, the controller chart, and the ``pdk-torchserve`` ClusterServingRuntime.

    From 0.17 the controller chart (kserve-resources) installs no serving runtimes: they moved
    to the kserve-runtime-configs chart, whose TorchServe image (torchserve-kfs 0.9.0, torch
    2.1) is older than what the flow exports with. The platform declares its own runtime,
    pinned in the version matrix, instead.
    """

    namespace: k8s.core.v1.Namespace
    crds: k8s.helm.v3.Release
    controller: k8s.helm.v3.Release
    runtime: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: KServeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:KServe", name, None, opts)
        self.namespace = charts.namespace(
            f"{name}-namespace", NAMESPACE, args.labels, pulumi.ResourceOptions(parent=self)
        )
        prerequisites = [self.namespace, *args.prerequisites]
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
        manifest = serving_runtime(args.runtime_image, args.labels)
        self.runtime = k8s.apiextensions.CustomResource(
            f"{name}-runtime",
            api_version=str(manifest["apiVersion"]),
            kind=str(manifest["kind"]),
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            # The controller's webhook validates runtimes, so it must be serving first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.controller]),
        )
        self.register_outputs({"mode": args.mode, "runtime": RUNTIME})
