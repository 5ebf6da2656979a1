"""What a stack on an existing cluster can leave behind: the cluster outlives the stack, so the
question goes to Kubernetes. Everything we create carries the deployment-id label; claims and
volumes made by charts do not, so those are found by the namespaces the stack deployed into.
"""

from __future__ import annotations

from typing import Any

from infra.naming import DEPLOYMENT_LABEL
from infra.ops.drain import namespaces_in_state
from infra.ops.leaks import Leak, LeakQuery, LeakReport

_SHARED = {"default", "kube-system", "kube-public", "kube-node-lease"}
"""Namespaces that exist without us: never reported as leftovers themselves."""


def find_leaks(query: LeakQuery) -> LeakReport:
    from kubernetes import client

    report = LeakReport(deployment_id=query.deployment_id, target="existing")
    if query.kube is None:
        report.errors.append("no Kubernetes client: cannot look for leftovers in the cluster")
        return report
    core = client.CoreV1Api(query.kube)
    apps = client.AppsV1Api(query.kube)
    selector = f"{DEPLOYMENT_LABEL}={query.deployment_id}"
    listings: list[tuple[str, Any]] = [
        ("Namespace", core.list_namespace),
        ("PersistentVolume", core.list_persistent_volume),
        ("PersistentVolumeClaim", core.list_persistent_volume_claim_for_all_namespaces),
        ("Service", core.list_service_for_all_namespaces),
        ("Deployment", apps.list_deployment_for_all_namespaces),
        ("StatefulSet", apps.list_stateful_set_for_all_namespaces),
        ("Secret", core.list_secret_for_all_namespaces),
        ("ConfigMap", core.list_config_map_for_all_namespaces),
    ]
    for kind, listing in listings:
        report.queried.append(f"{kind} with label {selector}")
        try:
            items = listing(label_selector=selector).items
        except Exception as error:
            report.errors.append(f"list {kind}: {error}")
            continue
        for item in items:
            ns = item.metadata.namespace
            report.leaks.append(
                Leak(
                    kind,
                    f"{ns}/{item.metadata.name}" if ns else item.metadata.name,
                    "cluster",
                    f"label {selector}",
                    True,
                )
            )
    owned = namespaces_in_state(query.state) - _SHARED
    if owned:
        report.queried.append(f"namespaces the stack deployed into: {', '.join(sorted(owned))}")
        try:
            existing = {ns.metadata.name for ns in core.list_namespace().items}
        except Exception as error:
            report.errors.append(f"list Namespace: {error}")
            existing = set()
        already = {leak.id for leak in report.leaks if leak.kind == "Namespace"}
        for name in sorted((owned & existing) - already):
            report.leaks.append(Leak("Namespace", name, "cluster", "stack state", True))
    return report
