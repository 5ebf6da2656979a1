"""Requests and limits of every platform workload, per ``platformSize``.

One table, so the whole platform's footprint can be read (and summed by a test) in one place.
``small`` keeps the platform's requests well under a 4-CPU/8-GiB kind node, leaving room for
the flow's pipeline workers and MLDE trials; ``standard`` is for clusters with room to spare.
Memory limits are what protects a node from a leaking pod; CPU limits are set too (scanners and
quota-enforcing namespaces ask for them), high enough above the requests that start-up bursts
are not throttled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi_kubernetes as k8s

Size = Literal["small", "standard"]


@dataclass(frozen=True)
class Resources:
    """One container's requests and limits."""

    cpu: str
    """CPU request."""
    memory: str
    """Memory request."""
    cpu_limit: str
    memory_limit: str

    def args(self) -> k8s.core.v1.ResourceRequirementsArgs:
        """The same, for a container we declare ourselves."""
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu, "memory": self.memory},
            limits={"cpu": self.cpu_limit, "memory": self.memory_limit},
        )

    def values(self) -> dict[str, dict[str, str]]:
        """The ``resources:`` block of a container spec or chart value."""
        return {
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


_TABLE: dict[str, dict[Size, Resources]] = {
    "setup-job": {
        "small": Resources("10m", "32Mi", "200m", "128Mi"),
        "standard": Resources("10m", "32Mi", "200m", "128Mi"),
    },
    "cert-manager": {
        "small": Resources("10m", "64Mi", "200m", "256Mi"),
        "standard": Resources("50m", "128Mi", "500m", "512Mi"),
    },
    "cert-manager-webhook": {
        "small": Resources("10m", "32Mi", "100m", "128Mi"),
        "standard": Resources("20m", "64Mi", "200m", "256Mi"),
    },
    "cert-manager-cainjector": {
        "small": Resources("10m", "64Mi", "100m", "256Mi"),
        "standard": Resources("20m", "128Mi", "200m", "512Mi"),
    },
    "cert-manager-startupapicheck": {
        "small": Resources("10m", "32Mi", "100m", "64Mi"),
        "standard": Resources("10m", "32Mi", "100m", "64Mi"),
    },
    "istiod": {
        # The chart asks 500m/2Gi by default; a single-gateway mesh needs far less.
        "small": Resources("100m", "256Mi", "1", "1Gi"),
        "standard": Resources("250m", "512Mi", "2", "2Gi"),
    },
    "istio-gateway": {
        "small": Resources("50m", "64Mi", "1", "512Mi"),
        "standard": Resources("100m", "128Mi", "2", "1Gi"),
    },
    "device-plugin": {
        "small": Resources("10m", "32Mi", "100m", "128Mi"),
        "standard": Resources("10m", "32Mi", "100m", "128Mi"),
    },
    "cluster-autoscaler": {
        "small": Resources("100m", "300Mi", "500m", "600Mi"),
        "standard": Resources("100m", "300Mi", "500m", "600Mi"),
    },
    "postgres": {
        "small": Resources("100m", "256Mi", "1", "1Gi"),
        "standard": Resources("250m", "512Mi", "2", "2Gi"),
    },
    "minio": {
        "small": Resources("100m", "256Mi", "1", "1Gi"),
        "standard": Resources("250m", "512Mi", "2", "4Gi"),
    },
    # MLDM (the Pachyderm chart's workloads, keys checked against chart 2.12).
    "pachd": {
        "small": Resources("250m", "512Mi", "1", "2Gi"),
        "standard": Resources("500m", "1Gi", "2", "4Gi"),
    },
    "pachw": {
        "small": Resources("100m", "256Mi", "1", "1Gi"),
        "standard": Resources("500m", "1Gi", "2", "4Gi"),
    },
    "etcd": {
        "small": Resources("50m", "128Mi", "500m", "512Mi"),
        "standard": Resources("250m", "512Mi", "1", "2Gi"),
    },
    "pg-bouncer": {
        "small": Resources("25m", "32Mi", "250m", "128Mi"),
        "standard": Resources("100m", "128Mi", "500m", "512Mi"),
    },
    "mldm-console": {
        "small": Resources("25m", "64Mi", "250m", "256Mi"),
        "standard": Resources("100m", "256Mi", "1", "1Gi"),
    },
    "mldm-proxy": {
        "small": Resources("25m", "32Mi", "500m", "256Mi"),
        "standard": Resources("100m", "128Mi", "1", "512Mi"),
    },
    "mlde-master": {
        # The chart asks 2 CPUs by default, more than a kind node can spare.
        "small": Resources("200m", "512Mi", "1", "2Gi"),
        "standard": Resources("500m", "1Gi", "2", "4Gi"),
    },
    "envoy-gateway": {
        "small": Resources("50m", "128Mi", "500m", "512Mi"),
        "standard": Resources("100m", "256Mi", "1", "1Gi"),
    },
    "envoy-proxy": {
        "small": Resources("50m", "64Mi", "500m", "256Mi"),
        "standard": Resources("200m", "256Mi", "2", "1Gi"),
    },
}


def resources(workload: str, size: Size) -> Resources:
    """The requests and limits of ``workload`` (a key of the table) at ``size``."""
    return _TABLE[workload][size]


def workloads() -> list[str]:
    """Every workload the table sizes."""
    return sorted(_TABLE)
