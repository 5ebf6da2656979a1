"""Where each Helm chart comes from, and the one way this project installs a chart.

Targets (the AWS cluster-autoscaler) and the platform layer both install charts through here.

Versions are not here: they are config keys (``*ChartVersion``) with pinned defaults, so a
stack can move one chart without a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from infra.values import chart_archive


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


def archive_name(chart: Chart, version: str) -> str:
    """The file a chart archive folder holds for ``chart`` at ``version``."""
    return chart_archive(chart.name, version)


_archives: Path | None = None
"""The ``chartArchives`` folder of the stack being built; None: the public repositories."""


def use_archives(folder: str) -> None:
    """Takes every chart from ``folder`` (the validated ``chartArchives`` key) from now on, or
    from the public repositories when it is empty. ``infra.program.build`` calls it once per
    program, before any release is declared."""
    global _archives
    _archives = Path(folder) if folder else None


class MissingArchiveError(Exception):
    """``chartArchives`` is set but lacks a chart this stack installs."""


RELEASE_TIMEOUT_S = 900
"""Per-operation wait; pulling the MLDM/MLDE images on a fresh node takes minutes."""


def _source(chart: Chart, version: str) -> tuple[str, str | None, str | None]:
    """(chart reference, version, repository) for helm: the public repository, or the archive in
    ``chartArchives`` (which carries its version; helm refuses a version beside a file path)."""
    if _archives is None:
        return chart.name, version, chart.repo
    archive = _archives / archive_name(chart, version)
    if not archive.is_file():
        raise MissingArchiveError(
            f"chartArchives: {_archives} has no {archive.name} (chart {chart.name} at "
            f"{version}); add it, or unset chartArchives to use {chart.repo or chart.name}"
        )
    return str(archive), None, None


def namespace(
    resource_name: str, name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Namespace:
    """The namespace a component's charts install into, declared as a resource of the stack.

    Helm never creates one for us (``release`` passes no ``create_namespace``): a namespace Helm
    creates belongs to no release, so ``helm uninstall`` and ``pulumi destroy`` leave it behind
    (found by the rig: cert-manager, envoy-gateway-system and kserve survived a destroy). Pass
    the namespace in the release's ``depends_on`` so it is created first and deleted last."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels)),
        opts=opts,
    )


def release(
    resource_name: str,
    *,
    chart: Chart,
    version: str,
    release_name: str,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    allow_null_values: bool = False,
) -> k8s.helm.v3.Release:
    """A Helm release that Pulumi waits on until every resource it renders is ready.

    Failed upgrades clean up what they created, so a retry starts from the last good release.
    The release name is fixed (``release_name``): charts derive service names from it, and the
    rest of the platform refers to those names. ``allow_null_values`` lets a ``None`` value
    delete a chart default instead of being dropped. ``namespace`` must exist or be declared
    by the caller (``namespace`` above): Helm is not asked to create it.
    """
    chart_ref, chart_version, repo = _source(chart, version)
    repository = k8s.helm.v3.RepositoryOptsArgs(repo=repo) if repo else None
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart_ref,
        version=chart_version,
        repository_opts=repository,
        namespace=namespace,
        values=dict(values),
        cleanup_on_fail=True,
        wait_for_jobs=True,
        timeout=RELEASE_TIMEOUT_S,
        max_history=10,
        allow_null_values=allow_null_values or None,
        opts=opts,
    )


def applied(
    resource_name: str,
    *,
    chart: Chart,
    version: str,
    namespace: str,
    values: Mapping[str, Any],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    """A chart rendered by the provider and applied object by object (server-side apply), with
    no Helm release record. For charts whose record cannot be stored: Helm keeps each release
    in a Secret, which the API server caps at 1 MiB, and a chart whose templates are larger
    than that cannot be installed as a release at all (Envoy Gateway's CRD chart, about 4 MB of
    CRDs: envoyproxy/gateway#6105; upstream's own advice is `helm template | kubectl apply
    --server-side`). Each object becomes a resource of the stack, so updates and deletes are
    Pulumi's, and each carries ``labels`` (the stack's labels, as every object we declare does:
    leak queries and the policy pack find them by these)."""
    chart_ref, chart_version, repo = _source(chart, version)

    def label(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_.startswith("kubernetes:helm.sh/"):
            return None
        props = dict(args.props)
        metadata: dict[str, Any] = dict(cast(Mapping[str, Any], props.get("metadata") or {}))
        metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        props["metadata"] = metadata
        return pulumi.ResourceTransformResult(props, args.opts)

    return k8s.helm.v4.Chart(
        resource_name,
        chart=chart_ref,
        version=chart_version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=repo) if repo else None,
        namespace=namespace,
        values=dict(values),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[label])),
    )
