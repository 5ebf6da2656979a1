"""The existing-cluster target's hooks: its preflight checks (nothing is billed, and the cluster's
nodes already exist, so there is no price table and no capacity resource).

What to check comes from the plan: the GPU label and taint are the ones in MLDE's GPU pod spec,
the storage class the one the StatefulSets' claims name, the NFS export the one the shared
volumes mount, and the kube context the one the stack's provider uses.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from infra.ops.hooks import TargetOps
from infra.ops.preflight import Check, MissingCredentials, PreflightContext

GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
NFS_PROBE_IMAGE = "docker.io/library/busybox:1.37.0"
OLDEST_SUPPORTED_MINOR = 30
"""Kubernetes minors older than this are past upstream support (1.30 ended 2025-06-28)."""


def gpu_pod_spec(resources: Any) -> Mapping[str, Any] | None:
    """MLDE's GPU pool pod spec (nodeSelector, tolerations) as the plan's release declares it."""
    for resource in resources:
        if resource["type"] != "kubernetes:helm.sh/v3:Release":
            continue
        determined = ((resource.get("inputs") or {}).get("values") or {}).get("determined")
        for pool in (determined or {}).get("resourcePools") or []:
            spec = ((pool.get("task_container_defaults") or {}).get("gpu_pod_spec") or {}).get(
                "spec"
            )
            if spec and (spec.get("tolerations") or spec.get("nodeSelector")):
                return dict(spec)
    return None


def storage_classes(resources: Any) -> set[str | None]:
    """Storage classes the stack's StatefulSets claim; None stands for the cluster default."""
    classes: set[str | None] = set()
    for resource in resources:
        if resource["type"] != "kubernetes:apps/v1:StatefulSet":
            continue
        spec = (resource.get("inputs") or {}).get("spec") or {}
        for template in spec.get("volumeClaimTemplates") or []:
            classes.add((template.get("spec") or {}).get("storageClassName") or None)
    return classes


def nfs_exports(resources: Any) -> set[tuple[str, str]]:
    exports: set[tuple[str, str]] = set()
    for resource in resources:
        if resource["type"] == "kubernetes:core/v1:PersistentVolume":
            nfs = ((resource.get("inputs") or {}).get("spec") or {}).get("nfs")
            if nfs:
                exports.add((str(nfs["server"]), str(nfs["path"])))
    return exports


def kube_context(resources: Any) -> str | None:
    for resource in resources:
        if resource["type"] == "pulumi:providers:kubernetes":
            context = (resource.get("inputs") or {}).get("context")
            return str(context) if context else None
    return None


def _api_client(ctx: PreflightContext) -> Any:
    if ctx.clients is not None:
        return ctx.clients("kubernetes")
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        return config.new_client_from_config(
            config_file=ctx.kubeconfig, context=kube_context(ctx.resources)
        )
    except (ConfigException, OSError) as error:
        where = ctx.kubeconfig or "$KUBECONFIG or ~/.kube/config"
        raise MissingCredentials(
            f"no usable kubeconfig ({where}: {error}): point --kubeconfig or KUBECONFIG at the "
            "cluster's kubeconfig (and kubeContext at its context)"
        ) from None


def preflight(ctx: PreflightContext) -> Iterator[Check]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = _api_client(ctx)
    try:
        version = client.VersionApi(api).get_code()
    except (ApiException, HTTPError, OSError) as error:
        yield Check(
            "cluster reachable",
            "fail",
            f"the API server did not answer: {error}",
            "check the kubeconfig's server address, VPN and credentials (`kubectl version`)",
        )
        return
    yield Check("cluster reachable", "pass", f"Kubernetes {version.git_version}")
    minor = int("".join(ch for ch in str(version.minor) if ch.isdigit()) or 0)
    if minor and minor < OLDEST_SUPPORTED_MINOR:
        yield Check(
            "Kubernetes version",
            "warn",
            f"1.{minor} is past upstream support",
            "upgrade the cluster (the platform is tested with 1.34)",
        )
    core = client.CoreV1Api(api)
    yield from _gpu_nodes(core.list_node().items, gpu_pod_spec(ctx.resources))
    yield from _storage(client.StorageV1Api(api), storage_classes(ctx.resources))
    exports = nfs_exports(ctx.resources)
    for server, path in sorted(exports):
        if not ctx.nfs_job:
            yield Check(
                f"NFS {server}:{path}",
                "warn",
                "not checked from inside the cluster",
                "run again with --nfs-job to mount it from a short-lived Job",
            )
        else:
            yield _nfs_job(client.BatchV1Api(api), server, path, ctx.nfs_timeout)


def _matches_taint(taint: Any, toleration: Mapping[str, Any]) -> bool:
    return bool(
        taint.key == toleration.get("key")
        and taint.effect == toleration.get("effect")
        and (toleration.get("operator") == "Exists" or taint.value == toleration.get("value"))
    )


def _gpu_nodes(nodes: list[Any], spec: Mapping[str, Any] | None) -> Iterator[Check]:
    yield Check("nodes", "pass" if nodes else "fail", f"{len(nodes)} nodes registered")
    if spec is None:
        return  # the stack has no GPU pool
    selector: dict[str, str] = dict(spec.get("nodeSelector") or {})
    tolerations = [t for t in spec.get("tolerations") or [] if t.get("key")]
    label_text = ", ".join(f"{k}={v}" for k, v in selector.items())
    matching = [
        node
        for node in nodes
        if all((node.metadata.labels or {}).get(k) == v for k, v in selector.items())
    ]
    if not matching:
        yield Check(
            "GPU nodes",
            "fail",
            f"no node is labelled {label_text}, so MLDE's GPU trials would stay Pending",
            f"kubectl label node <gpu-node> {label_text.replace(', ', ' ')} (or set gpuNodeLabel)",
        )
        return
    untainted = [
        node.metadata.name
        for node in matching
        if not all(
            any(_matches_taint(taint, t) for taint in node.spec.taints or []) for t in tolerations
        )
    ]
    wanted = ", ".join(f"{t['key']}={t.get('value', '')}:{t.get('effect')}" for t in tolerations)
    if untainted:
        yield Check(
            "GPU taint",
            "warn",
            f"{', '.join(untainted)} lack the taint {wanted}: CPU-only pods may land on them",
            f"kubectl taint node <gpu-node> {wanted}",
        )
    else:
        yield Check("GPU nodes", "pass", f"{len(matching)} labelled {label_text}, tainted {wanted}")
    allocatable = sum(
        int((node.status.allocatable or {}).get(GPU_RESOURCE, "0")) for node in matching
    )
    if allocatable:
        yield Check("allocatable GPUs", "pass", f"{allocatable} {GPU_RESOURCE} on the GPU nodes")
    else:
        yield Check(
            "allocatable GPUs",
            "warn",
            f"the GPU nodes advertise no {GPU_RESOURCE} yet",
            "the stack installs NVIDIA's device plugin; if it is already installed, check the "
            "node's driver (`nvidia-smi`) and the plugin's pod logs",
        )


def _storage(storage: Any, wanted: set[str | None]) -> Iterator[Check]:
    if not wanted:
        return
    classes = storage.list_storage_class().items
    names = {sc.metadata.name for sc in classes}
    for name in sorted(n for n in wanted if n):
        if name in names:
            yield Check(f"StorageClass {name}", "pass", "exists")
        else:
            yield Check(
                f"StorageClass {name}",
                "fail",
                f"not found (the cluster has: {', '.join(sorted(names)) or 'none'})",
                "set kubeStorageClass to one of them, or create it",
            )
    if None in wanted:
        defaults = [
            sc.metadata.name
            for sc in classes
            if (sc.metadata.annotations or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"
        ]
        if defaults:
            yield Check("default StorageClass", "pass", ", ".join(defaults))
        else:
            yield Check(
                "default StorageClass",
                "fail",
                "none is marked default, so the Postgres and MinIO claims would stay Pending",
                f"annotate one with {DEFAULT_CLASS_ANNOTATION}=true, or set kubeStorageClass",
            )


def _nfs_job(batch: Any, server: str, path: str, timeout: float) -> Check:
    from kubernetes.client.exceptions import ApiException

    name = f"pdk-preflight-nfs-{uuid.uuid4().hex[:6]}"
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "pdk"}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": int(timeout),
            "ttlSecondsAfterFinished": 300,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
                    "containers": [
                        {
                            "name": "probe",
                            "image": NFS_PROBE_IMAGE,
                            "command": ["ls", "/mnt/shared"],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [{"name": "shared", "mountPath": "/mnt/shared"}],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "shared",
                            "nfs": {"server": server, "path": path, "readOnly": True},
                        }
                    ],
                }
            },
        },
    }
    check_name = f"NFS {server}:{path}"
    try:
        batch.create_namespaced_job("default", job)
        deadline = time.monotonic() + timeout
        while True:
            status = batch.read_namespaced_job(name, "default").status
            if status.succeeded:
                return Check(check_name, "pass", "mounted and listed from a Job in the cluster")
            if status.failed:
                return Check(
                    check_name,
                    "fail",
                    "the Job could not mount or list it",
                    f"check the export and its allowed clients (`kubectl describe job {name}`)",
                )
            if time.monotonic() > deadline:
                return Check(
                    check_name,
                    "fail",
                    f"the Job did not finish within {timeout:g} s",
                    f"`kubectl describe job {name}`: a mount that hangs means the server is "
                    "unreachable from the nodes",
                )
            time.sleep(1.0)
    except ApiException as error:
        return Check(check_name, "warn", f"the Job could not be created ({error.reason})")
    finally:
        with contextlib.suppress(ApiException):  # already gone, or never created
            batch.delete_namespaced_job(name, "default", propagation_policy="Background")


OPS = TargetOps()


def estimate_hooks() -> TargetOps:
    """``TargetSpec.estimate``: nothing billed, no price table; the nodes already exist."""
    return OPS
