"""What a GCP stack can leave behind after ``destroy``, found with per-service list calls.

Everything the target creates carries its labels through the provider's ``default_labels``
(``pdk-deployer/deployment-id`` becomes ``pdk-deployer-deployment-id`` in GCP's alphabet), so
labelled kinds (disks, VMs, addresses, forwarding rules) are listed by label; kinds without
labels (networks, firewall rules, GKE clusters, Cloud SQL instances, buckets) by the
``pdk-<id>-`` name prefix the target gives them, and GKE's own firewall rules by the cluster
name in theirs. List calls answer from the live resources (no index that lags), so every hit is
a confirmed leak. Uses Google's discovery-based client (``google-api-python-client``, present
with ``determined``), whose static discovery documents need no network to build a client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from infra.naming import DEPLOYMENT_LABEL
from infra.ops.leaks import Leak, LeakQuery, LeakReport
from infra.targets.gcp.project import gcp_labels

(LABEL,) = gcp_labels({DEPLOYMENT_LABEL: "x"})
"""The deployment-id label key as the GCP target writes it."""

Build = Callable[[str, str], Any]
"""(API, version) -> a discovery client; tests hand in one over a faked transport."""


def _build(api: str, version: str) -> Any:
    from googleapiclient import discovery  # type: ignore[import-untyped]

    return discovery.build(api, version, static_discovery=True, cache_discovery=False)


def _pages(collection: Any, method: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    request = getattr(collection, method)(**kwargs)
    while request is not None:
        response = request.execute()
        yield response
        next_method = getattr(collection, f"{method}_next", None)
        request = next_method(request, response) if next_method else None


def _aggregated(collection: Any, **kwargs: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(scope, item) over an aggregatedList (scope: ``zones/us-central1-a``, ``global``)."""
    for page in _pages(collection, "aggregatedList", **kwargs):
        for scope, group in (page.get("items") or {}).items():
            for value in group.values():
                if isinstance(value, list):
                    for item in value:
                        yield scope, item


def find_leaks(query: LeakQuery, build: Build = _build) -> LeakReport:
    config = query.config
    project = str(config.get("gcpProject") or "")
    report = LeakReport(deployment_id=query.deployment_id, target="gcp")
    if not project:
        report.errors.append("the stack has no gcpProject: cannot tell where to look")
        return report
    prefix = f"pdk-{query.deployment_id}-"
    label_filter = f'labels.{LABEL} = "{query.deployment_id}"'

    def attempt(what: str, run: Callable[[], None]) -> None:
        report.queried.append(what)
        try:
            run()
        except Exception as error:  # HttpError, auth errors: the report cannot be called clean
            report.errors.append(f"{what}: {error}")

    compute = build("compute", "v1")

    def labelled(kind: str) -> Callable[[], None]:
        def run() -> None:
            for scope, item in _aggregated(
                getattr(compute, kind)(), project=project, filter=label_filter
            ):
                report.leaks.append(
                    Leak(f"compute:{kind}", item["selfLink"], scope, f"label {LABEL}", True)
                )

        return run

    for kind in ("disks", "instances", "addresses", "forwardingRules"):
        attempt(f"compute {kind} labelled {LABEL}={query.deployment_id}", labelled(kind))
    # GKE labels the VMs and boot disks of a cluster's nodes with the cluster's name. The PD CSI
    # driver's disks carry our labels when the claim used our default class (``volumes.py``,
    # found by the query above); a claim naming another class gets neither, so they are also
    # matched by the cluster label where GKE sets it (unverified for CSI disks).
    cluster_filter = f'labels.goog-k8s-cluster-name = "{prefix}gke"'
    report.queried.append(f"compute disks labelled goog-k8s-cluster-name={prefix}gke")
    try:
        for scope, item in _aggregated(compute.disks(), project=project, filter=cluster_filter):
            if not any(leak.id == item["selfLink"] for leak in report.leaks):
                report.leaks.append(
                    Leak(
                        "compute:disks",
                        item["selfLink"],
                        scope,
                        "label goog-k8s-cluster-name",
                        True,
                    )
                )
    except Exception as error:
        report.errors.append(f"compute disks by cluster label: {error}")

    def named(kind: str, name_filter: str, found_by: str) -> Callable[[], None]:
        def run() -> None:
            for page in _pages(
                getattr(compute, kind)(), "list", project=project, filter=name_filter
            ):
                for item in page.get("items") or []:
                    report.leaks.append(
                        Leak(f"compute:{kind}", item["selfLink"], "global", found_by, True)
                    )

        return run

    for kind in ("networks", "globalAddresses"):
        attempt(
            f"compute {kind} named {prefix}*",
            named(kind, f'name eq "{prefix}.*"', f"name {prefix}*"),
        )
    cluster_rules = f"gke-{prefix}"
    attempt(
        f"compute firewalls named {prefix}* or {cluster_rules}*",
        named(
            "firewalls",
            f'name eq "({prefix}|{cluster_rules}).*"',
            f"name {prefix}* / {cluster_rules}*",
        ),
    )

    def clusters() -> None:
        api = build("container", "v1")
        response = (
            api.projects()
            .locations()
            .clusters()
            .list(parent=f"projects/{project}/locations/-")
            .execute()
        )
        for cluster in response.get("clusters") or []:
            if cluster["name"].startswith(prefix):
                report.leaks.append(
                    Leak(
                        "container:cluster",
                        cluster["selfLink"],
                        cluster["location"],
                        f"name {prefix}*",
                        True,
                    )
                )

    attempt(f"GKE clusters named {prefix}*", clusters)

    def sql() -> None:
        api = build("sqladmin", "v1")
        for page in _pages(api.instances(), "list", project=project):
            for instance in page.get("items") or []:
                if instance["name"].startswith(prefix):
                    report.leaks.append(
                        Leak(
                            "sql:instance",
                            instance["selfLink"],
                            instance.get("region", ""),
                            f"name {prefix}*",
                            True,
                        )
                    )

    attempt(f"Cloud SQL instances named {prefix}*", sql)

    def buckets() -> None:
        api = build("storage", "v1")
        for page in _pages(api.buckets(), "list", project=project, prefix=prefix):
            for bucket in page.get("items") or []:
                report.leaks.append(
                    Leak(
                        "storage:bucket",
                        f"gs://{bucket['name']}",
                        bucket.get("location", ""),
                        f"name {prefix}*",
                        True,
                    )
                )

    attempt(f"buckets named {prefix}*", buckets)
    return report
