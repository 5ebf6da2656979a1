"""How user-facing services are reached from outside the cluster, and the shell snippets that
find their address once deployed.

The addresses are only known after the cloud (or MetalLB, or the node) assigns them, so outputs
carry a command that prints the address rather than a value read during the deployment: a read
would fail on the first ``pulumi preview``, before the services exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.platform.endpoints import Endpoint


@dataclass(frozen=True)
class Exposure:
    """Service type and allowed sources for every exposed endpoint."""

    service_type: Literal["LoadBalancer", "NodePort"]
    """LoadBalancer: an external address per endpoint. NodePort: a port on every node."""
    source_ranges: tuple[str, ...]
    """CIDRs allowed through load balancers; unused with NodePort."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """The target's ``load_balancer_annotations``; set on LoadBalancer Services only."""

    @property
    def service_annotations(self) -> dict[str, str] | None:
        """Annotations for an exposed Service; None where the type takes none."""
        if self.service_type != "LoadBalancer" or not self.annotations:
            return None
        return dict(self.annotations)

    @property
    def load_balancer_source_ranges(self) -> list[str] | None:
        """The Service's ``loadBalancerSourceRanges``; None where the type has none."""
        return list(self.source_ranges) if self.service_type == "LoadBalancer" else None

    def service_values(self) -> dict[str, Any]:
        """The ``service:`` block most charts accept (type and source ranges)."""
        values: dict[str, Any] = {"type": self.service_type}
        if self.load_balancer_source_ranges is not None:
            values["loadBalancerSourceRanges"] = self.load_balancer_source_ranges
        if self.service_annotations is not None:
            values["annotations"] = self.service_annotations
        return values

    def host(self, endpoint: Endpoint) -> str:
        """A shell expression printing the external host (IP or name) of ``endpoint``."""
        svc = f"kubectl -n {endpoint.namespace} get svc {endpoint.service} -o jsonpath="
        if self.service_type == "LoadBalancer":
            # A load balancer has either an IP (most) or a host name (AWS); print whichever.
            return (
                f"$({svc}'{{.status.loadBalancer.ingress[0].ip}}"
                f"{{.status.loadBalancer.ingress[0].hostname}}')"
            )
        return (
            "$(kubectl get nodes -o jsonpath="
            "'{.items[0].status.addresses[?(@.type==\"InternalIP\")].address}')"
        )

    def port(self, endpoint: Endpoint) -> str:
        """A shell expression printing the external port of ``endpoint``."""
        svc = f"kubectl -n {endpoint.namespace} get svc {endpoint.service} -o jsonpath="
        field = "port" if self.service_type == "LoadBalancer" else "nodePort"
        return f"$({svc}'{{.spec.ports[?(@.name==\"{endpoint.port_name}\")].{field}}}')"

    def address(self, endpoint: Endpoint) -> str:
        """A shell expression printing the external ``HOST:PORT`` of ``endpoint``."""
        return f"{self.host(endpoint)}:{self.port(endpoint)}"
