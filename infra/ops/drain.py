"""Before ``destroy``: delete what makes the cluster's controllers create cloud resources.

LoadBalancer Services, Gateways and Ingresses become cloud load balancers, PVCs become disks;
none of those is in Pulumi's state. Once the cluster is destroyed nothing deletes them, so they
go first, while the controllers still run, and we wait until they are really gone (a Service
keeps its load-balancer finalizer until the cloud LB is deleted; a dynamically provisioned PV
disappears once its disk is). Only namespaces the stack deployed into are touched.

Claims are the exception to waiting first: a claim a pod still mounts keeps its
``kubernetes.io/pvc-protection`` finalizer until that pod is gone, and the pods go with
``destroy``. So ``drain`` asks for the claims' deletion and ``wait_for_volumes`` waits for them
and their disks after ``destroy`` (found by the rig, where waiting first hung for the whole
timeout on MLDM's etcd claim).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rich.console import Console

GATEWAY_API = ("gateway.networking.k8s.io", "v1", "gateways")


@dataclass
class DrainResult:
    deleted: list[str] = field(default_factory=list)
    """``kind namespace/name`` of every object deleted."""
    pending: list[str] = field(default_factory=list)
    """What was still there when the wait ran out."""
    retained: list[str] = field(default_factory=list)
    """PVs whose reclaim policy keeps the disk: the leak report will list those disks."""
    volumes: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    """Claims asked to go, and the dynamic volumes behind them: ``wait_for_volumes`` waits for
    them after ``destroy`` has removed the pods that hold them."""


def namespaces_in_state(state: Iterable[Mapping[str, Any]]) -> set[str]:
    """Namespaces the stack created or deployed into, from ``stack export``."""
    found: set[str] = set()
    for resource in state:
        kind = str(resource.get("type", ""))
        if not kind.startswith("kubernetes:"):
            continue
        inputs = resource.get("inputs") or {}
        metadata = inputs.get("metadata") or {}
        if kind == "kubernetes:core/v1:Namespace" and metadata.get("name"):
            found.add(str(metadata["name"]))
        for candidate in (metadata.get("namespace"), inputs.get("namespace")):
            if isinstance(candidate, str) and candidate:
                found.add(candidate)
    return found


def _status(error: Exception) -> int | None:
    return getattr(error, "status", None)


def drain(
    api_client: Any,
    namespaces: set[str],
    console: Console,
    timeout: float = 900,
    poll: float = 10,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DrainResult:
    """Deletes LoadBalancer Services, Gateways, Ingresses and PVCs in ``namespaces`` and
    waits for them (and the PVs behind the claims) to be gone."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    networking = client.NetworkingV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    result = DrainResult()
    waits: list[tuple[str, Callable[[], Any]]] = []

    def wanted(item: Any) -> bool:
        return bool(item.metadata.namespace in namespaces)

    for svc in core.list_service_for_all_namespaces().items:
        if svc.spec.type == "LoadBalancer" and wanted(svc):
            ns, name = svc.metadata.namespace, svc.metadata.name
            core.delete_namespaced_service(name, ns)
            result.deleted.append(f"Service {ns}/{name}")
            waits.append((f"Service {ns}/{name}", partial(core.read_namespaced_service, name, ns)))
    group, version, plural = GATEWAY_API
    try:
        gateways: Sequence[Mapping[str, Any]] = custom.list_cluster_custom_object(
            group, version, plural
        )["items"]
    except Exception as error:
        if _status(error) != 404:  # 404: the Gateway API is not installed
            raise
        gateways = []
    for gateway in gateways:
        ns, name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
        if ns not in namespaces:
            continue
        custom.delete_namespaced_custom_object(group, version, ns, plural, name)
        result.deleted.append(f"Gateway {ns}/{name}")
        waits.append(
            (
                f"Gateway {ns}/{name}",
                partial(custom.get_namespaced_custom_object, group, version, ns, plural, name),
            )
        )
    for ingress in networking.list_ingress_for_all_namespaces().items:
        if wanted(ingress):
            ns, name = ingress.metadata.namespace, ingress.metadata.name
            networking.delete_namespaced_ingress(name, ns)
            result.deleted.append(f"Ingress {ns}/{name}")
            waits.append(
                (
                    f"Ingress {ns}/{name}",
                    partial(networking.read_namespaced_ingress, name, ns),
                )
            )
    for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
        if not wanted(claim):
            continue
        ns, name = claim.metadata.namespace, claim.metadata.name
        volume = claim.spec.volume_name
        core.delete_namespaced_persistent_volume_claim(name, ns)
        result.deleted.append(f"PersistentVolumeClaim {ns}/{name}")
        result.volumes.append(
            (
                f"PersistentVolumeClaim {ns}/{name}",
                partial(core.read_namespaced_persistent_volume_claim, name, ns),
            )
        )
        if volume:
            pv = core.read_persistent_volume(volume)
            if pv.spec.persistent_volume_reclaim_policy == "Retain" or not _dynamic(pv):
                if _dynamic(pv):
                    result.retained.append(f"PersistentVolume {volume}")
                continue
            result.volumes.append(
                (f"PersistentVolume {volume}", partial(core.read_persistent_volume, volume))
            )
    for line in result.deleted:
        console.print(f"  deleted {line}", highlight=False)
    result.pending = _wait(waits, console, timeout, poll, sleep, clock)
    return result


def wait_for_volumes(
    result: DrainResult,
    console: Console,
    timeout: float = 900,
    poll: float = 10,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """After ``destroy``: waits for the claims ``drain`` deleted and their dynamic volumes to
    be gone; returns what is still there when the wait runs out."""
    return _wait(result.volumes, console, timeout, poll, sleep, clock)


def _wait(
    waits: list[tuple[str, Callable[[], Any]]],
    console: Console,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> list[str]:
    """Reads each object until it answers 404; the labels of those left at the deadline."""
    deadline = clock() + timeout
    while waits:
        still = []
        for label, read in waits:
            try:
                read()
            except Exception as error:
                if _status(error) == 404:
                    continue
                raise
            still.append((label, read))
        waits = still
        if not waits:
            break
        if clock() >= deadline:
            return [label for label, _ in waits]
        console.print(f"  waiting for {len(waits)} to go: {waits[0][0]} ...", highlight=False)
        sleep(poll)
    return []


def _dynamic(pv: Any) -> bool:
    """Provisioned by a CSI driver or cloud plugin (a disk), not a static volume we declared."""
    annotations = pv.metadata.annotations or {}
    return "pv.kubernetes.io/provisioned-by" in annotations
