"""Knative Serving and its Istio networking layer, for KServe's Serverless mode.

Knative publishes no Helm chart for Serving (only an operator), so its release manifests are
applied as they are published, pinned by release version. Pulumi waits for every object in a
manifest to be ready before the next manifest starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.naming import Naming

NAMESPACE = "knative-serving"
_SERVING = "https://github.com/knative/serving/releases/download/knative-v{version}/{file}"
# The knative.dev install docs link here (GitHub redirects to knative-extensions/net-istio).
_NET_ISTIO = "https://github.com/knative/net-istio/releases/download/knative-v{version}/{file}"


def manifest_urls(serving: str, net_istio: str) -> dict[str, str]:
    """The release manifests, in the order they must be applied."""
    serving, net_istio = serving.removeprefix("v"), net_istio.removeprefix("v")
    return {
        "crds": _SERVING.format(version=serving, file="serving-crds.yaml"),
        "core": _SERVING.format(version=serving, file="serving-core.yaml"),
        "net-istio": _NET_ISTIO.format(version=net_istio, file="net-istio.yaml"),
    }


def _patch_metadata(naming: Naming, name: str) -> k8s.meta.v1.ObjectMetaPatchArgs:
    """Metadata of a server-side-apply patch to one of Knative's ConfigMaps. ``patchForce``
    takes over keys the release manifest already set (its field manager would otherwise make
    the patch fail with a conflict); the labels show which keys this stack owns."""
    return k8s.meta.v1.ObjectMetaPatchArgs(
        name=name,
        namespace=NAMESPACE,
        labels=naming.labels,
        annotations={"pulumi.com/patchForce": "true"},
    )


@dataclass(frozen=True)
class KnativeServingArgs:
    naming: Naming
    """The stack's naming rules."""
    version: str
    """Knative Serving release."""
    net_istio_version: str
    """net-istio release (same minor as Serving)."""
    domain: str
    """Domain of Knative routes, and so of model URLs."""
    istio: Sequence[pulumi.Resource]
    """The Istio control plane and gateway; net-istio configures them."""


class KnativeServing(pulumi.ComponentResource):
    """CRDs, then the Serving core, then net-istio; the route domain and pod-spec features
    are patched into Knative's own ConfigMaps."""

    crds: k8s.yaml.v2.ConfigFile
    core: k8s.yaml.v2.ConfigFile
    net_istio: k8s.yaml.v2.ConfigFile
    domain: k8s.core.v1.ConfigMapPatch
    features: k8s.core.v1.ConfigMapPatch

    def __init__(
        self, name: str, args: KnativeServingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:platform:KnativeServing", name, None, opts)
        urls = manifest_urls(args.version, args.net_istio_version)
        self.crds = k8s.yaml.v2.ConfigFile(
            f"{name}-crds", file=urls["crds"], opts=pulumi.ResourceOptions(parent=self)
        )
        self.core = k8s.yaml.v2.ConfigFile(
            f"{name}-core",
            file=urls["core"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.crds]),
        )
        self.net_istio = k8s.yaml.v2.ConfigFile(
            f"{name}-net-istio",
            file=urls["net-istio"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.core, *args.istio]),
        )
        # Server-side apply of one key: the rest of the ConfigMap stays Knative's.
        self.domain = k8s.core.v1.ConfigMapPatch(
            f"{name}-domain",
            metadata=_patch_metadata(args.naming, "config-domain"),
            data={args.domain: ""},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.core]),
        )
        # Models on GPU nodes need node selectors and tolerations in their pod specs, which
        # Knative rejects unless these features are on.
        self.features = k8s.core.v1.ConfigMapPatch(
            f"{name}-features",
            metadata=_patch_metadata(args.naming, "config-features"),
            data={
                "kubernetes.podspec-nodeselector": "enabled",
                "kubernetes.podspec-tolerations": "enabled",
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.core]),
        )
        self.register_outputs({"domain": args.domain})
