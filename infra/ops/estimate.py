"""`pdk estimate`: time to ready and cost per hour/month, offline, from the stack's plan.

Time: every resource the plan creates gets a typical create time from a table with sources
(``infra/ops/create_times.yaml`` plus the target's own); the critical path through the resource
graph (``infra.ops.graph``) is the estimate, and the same chain summed with each entry's fastest
sample is the floor no deploy of this program can beat.

Cost: the target turns the planned resources into priced lines (``PriceLine``) from its dated
price table; node pools count at their minimum and at their maximum, GPU pools at zero and at
their maximum. Usage-based charges are listed as not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.ops.graph import CriticalPath, Node, ResourceGraph, critical_path

COMMON_TIMES = Path(__file__).with_name("create_times.yaml")


@dataclass(frozen=True)
class Duration:
    typical: float
    low: float
    high: float
    source: str


class DurationTable:
    """Create times by resource type, or by type and one input (Helm chart, EKS add-on)."""

    def __init__(self, documents: Sequence[Mapping[str, Any]]) -> None:
        self.types: dict[str, Duration] = {}
        self.keyed: dict[str, tuple[str, dict[str, Duration]]] = {}
        for document in documents:
            for token, entry in (document.get("types") or {}).items():
                self.types[token] = Duration(**entry)
            for token, spec in (document.get("keyed") or {}).items():
                entries = {key: Duration(**value) for key, value in spec["entries"].items()}
                self.keyed[token] = (spec["input"], entries)

    @classmethod
    def load(cls, *paths: Path) -> DurationTable:
        return cls([_read_yaml(path) for path in paths])

    @staticmethod
    def key_of(node: Node, input_name: str) -> str:
        """The input ``input_name`` (a dotted path, e.g. ``spec.type``) of the node."""
        found: Any = node.inputs
        for part in input_name.split("."):
            found = found.get(part, "") if isinstance(found, Mapping) else ""
        value = str(found)
        # An OCI chart reference names the chart in its last segment.
        return value.rstrip("/").rsplit("/", 1)[-1]

    def entry_name(self, node: Node) -> str:
        """What the table must contain for this node (for messages and coverage tests)."""
        if node.type in self.keyed:
            input_name, _ = self.keyed[node.type]
            return f"{node.type} {input_name}={self.key_of(node, input_name)}"
        return node.type

    def lookup(self, node: Node) -> Duration | None:
        if node.type in self.keyed:
            input_name, entries = self.keyed[node.type]
            return entries.get(self.key_of(node, input_name))
        return self.types.get(node.type)


@cache
def _read_yaml(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


@dataclass(frozen=True)
class TimeEstimate:
    path: CriticalPath
    durations: dict[str, Duration]
    missing: list[str]
    """Table entries the plan needs but the table lacks (counted as zero)."""

    @property
    def floor(self) -> float:
        return sum(self.durations[name].low for name in self.path.chain)

    @property
    def slow(self) -> float:
        return sum(self.durations[name].high for name in self.path.chain)


_UNKNOWN = Duration(0, 0, 0, "no entry in the create-time table")


def estimate_time(graph: ResourceGraph, table: DurationTable) -> TimeEstimate:
    durations: dict[str, Duration] = {}
    missing: set[str] = set()
    for name, node in graph.nodes.items():
        found = table.lookup(node)
        if found is None:
            missing.add(table.entry_name(node))
        durations[name] = found or _UNKNOWN
    path = critical_path(graph, lambda node: durations[node.name].typical)
    return TimeEstimate(path, durations, sorted(missing))


@dataclass(frozen=True)
class Price:
    price: float
    unit: str
    """``hour``, ``month`` or ``gb-month``."""
    source: str
    date: str
    checked: str


@dataclass(frozen=True)
class PriceTable:
    region: str
    items: dict[str, Price]
    hours_per_month: float
    known_regions: tuple[str, ...]

    @property
    def region_known(self) -> bool:
        return self.region in self.known_regions

    @classmethod
    def load(cls, path: Path, region: str) -> PriceTable:
        document = _read_yaml(path)
        regions: dict[str, Any] = document.get("regions") or {}
        items = {key: Price(**value) for key, value in (regions.get(region) or {}).items()}
        return cls(region, items, float(document["hours_per_month"]), tuple(sorted(regions)))


@dataclass(frozen=True)
class PriceLine:
    """One priced item: ``quantity_min``/``quantity_max`` units of ``item`` (its price unit
    decides how a quantity becomes an hourly figure: GB for gb-month, count otherwise)."""

    what: str
    item: str
    quantity_min: float
    quantity_max: float
    note: str = ""


@dataclass(frozen=True)
class CostLine:
    line: PriceLine
    price: Price | None

    def hourly(self, quantity: float, hours_per_month: float) -> float | None:
        if self.price is None:
            return None
        if self.price.unit == "hour":
            return quantity * self.price.price
        return quantity * self.price.price / hours_per_month


@dataclass(frozen=True)
class CostEstimate:
    region: str | None
    region_known: bool
    lines: list[CostLine]
    hours_per_month: float
    not_counted: list[str] = field(default_factory=list)

    def total_hourly(self, at_max: bool) -> float:
        total = 0.0
        for cost in self.lines:
            quantity = cost.line.quantity_max if at_max else cost.line.quantity_min
            value = cost.hourly(quantity, self.hours_per_month)
            total += value or 0.0
        return total

    @property
    def unpriced(self) -> list[str]:
        return sorted({c.line.item for c in self.lines if c.price is None})


def estimate_cost(
    lines: Sequence[PriceLine], table: PriceTable | None, not_counted: Sequence[str]
) -> CostEstimate:
    items = table.items if table else {}
    return CostEstimate(
        region=table.region if table else None,
        region_known=bool(table and table.region_known),
        lines=[CostLine(line, items.get(line.item)) for line in lines],
        hours_per_month=table.hours_per_month if table else 730.0,
        not_counted=list(not_counted),
    )


GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GATEWAY_CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"


def _gateway_service_types(resources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Gateway class name -> the Service type Envoy Gateway gives each Gateway of that class
    (``EnvoyProxy.spec.provider.kubernetes.envoyService.type``; Envoy Gateway's default is
    LoadBalancer)."""
    proxies: dict[str, str] = {}
    for resource in resources:
        if resource["type"] == ENVOY_PROXY:
            inputs = resource.get("inputs") or {}
            kubernetes = ((inputs.get("spec") or {}).get("provider") or {}).get("kubernetes") or {}
            service_type = (kubernetes.get("envoyService") or {}).get("type", "LoadBalancer")
            proxies[str((inputs.get("metadata") or {}).get("name"))] = str(service_type)
    classes: dict[str, str] = {}
    for resource in resources:
        if resource["type"] == GATEWAY_CLASS:
            inputs = resource.get("inputs") or {}
            reference = (inputs.get("spec") or {}).get("parametersRef") or {}
            name = str((inputs.get("metadata") or {}).get("name"))
            classes[name] = proxies.get(str(reference.get("name")), "LoadBalancer")
    return classes


def load_balancer_services(resources: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(resource name, what) for every Service of type LoadBalancer the stack declares: directly,
    through a Helm release's values (``...service.type: LoadBalancer``), or as the Service Envoy
    Gateway creates for each Gateway. Their load balancers are created by the cloud's
    controller, not by Pulumi, but they are billed all the same."""
    found: list[tuple[str, str]] = []
    gateway_types = _gateway_service_types(resources)
    for resource in resources:
        if resource["type"] == GATEWAY:
            spec = (resource.get("inputs") or {}).get("spec") or {}
            service_type = gateway_types.get(str(spec.get("gatewayClassName")), "LoadBalancer")
            if service_type == "LoadBalancer":
                found.append((str(resource["name"]), "Gateway"))
        inputs = resource.get("inputs") or {}
        if resource["type"] == "kubernetes:core/v1:Service":
            spec = inputs.get("spec") or {}
            if spec.get("type") == "LoadBalancer":
                found.append((str(resource["name"]), "Service"))
        elif resource["type"] == "kubernetes:helm.sh/v3:Release":
            for path in _service_types(inputs.get("values") or {}, ""):
                found.append((str(resource["name"]), f"values {path}"))
    return found


def _service_types(values: Any, path: str) -> list[str]:
    paths: list[str] = []
    if isinstance(values, dict):
        for key, value in values.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "service" and isinstance(value, dict) and value.get("type") == "LoadBalancer":
                paths.append(here)
            paths.extend(_service_types(value, here))
    return paths
