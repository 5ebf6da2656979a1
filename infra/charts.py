"""Where each Helm chart comes from, and the one way this project installs a chart.

Targets (the AWS cluster-autoscaler) and the platform layer both install charts through here.

Versions are not here: they are config keys (``*ChartVersion``) with pinned defaults, so a
stack can move one chart without a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class Chart:
    """A chart's name and repository; ``repo`` is None for an ``oci://`` reference."""

    name: str
    repo: str | None


CERT_MANAGER = Chart("cert-manager", "https://charts.jetstack.io")
ISTIO_BASE = Chart("base", "https://istio-release.storage.googleapis.com/charts")
ISTIOD = Chart("istiod", "https://istio-release.storage.googleapis.com/charts")
ISTIO_GATEWAY = Chart("gateway", "https://istio-release.storage.googleapis.com/charts")
KSERVE_CRD = Chart("oci://ghcr.io/kserve/charts/kserve-crd", None)
ENVOY_GATEWAY = Chart("oci://docker.io/envoyproxy/gateway-helm", None)
ENVOY_GATEWAY_CRDS = Chart("oci://docker.io/envoyproxy/gateway-crds-helm", None)
PACHYDERM = Chart("pachyderm", "https://helm.pachyderm.com")
CLUSTER_AUTOSCALER = Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler")

RELEASE_TIMEOUT_S = 900
"""Per-operation wait; pulling the MLDM/MLDE images on a fresh node takes minutes."""


def release(
    resource_name: str,
    *,
    chart: Chart,
    version: str,
    release_name: str,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    create_namespace: bool = True,
    allow_null_values: bool = False,
) -> k8s.helm.v3.Release:
    """A Helm release that Pulumi waits on until every resource it renders is ready.

    Failed upgrades clean up what they created, so a retry starts from the last good release.
    The release name is fixed (``release_name``): charts derive service names from it, and the
    rest of the platform refers to those names. ``allow_null_values`` lets a ``None`` value
    delete a chart default instead of being dropped.
    """
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart.name,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
        namespace=namespace,
        create_namespace=create_namespace,
        values=dict(values),
        cleanup_on_fail=True,
        wait_for_jobs=True,
        timeout=RELEASE_TIMEOUT_S,
        max_history=10,
        allow_null_values=allow_null_values or None,
        opts=opts,
    )
