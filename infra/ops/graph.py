"""The stack's resource graph, as the mock engine recorded it, and its critical path.

Nodes are the resources the engine creates (custom resources and remote components such as
``kubernetes:yaml/v2:ConfigFile``); component resources only group them and become clusters.
An edge ``a -> b`` means ``b`` cannot start before ``a`` is done. Three kinds:

- ``dependency``: what Pulumi itself waits for (``depends_on`` and property dependencies; the SDK
  already expands a dependency on a component into the component's children).
- ``provider``: a resource waits for its explicit provider (the Kubernetes provider waits for
  the EKS cluster's kubeconfig).
- ``scheduling``: not a Pulumi edge but a real wait: a Helm release or a workload that Pulumi
  awaits is only ready once nodes exist to run its pods. Targets name the resources that supply
  the first nodes (``infra.ops.hooks``); without this edge the estimate would be optimistic by a
  node group's creation time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EdgeKind = Literal["dependency", "provider", "scheduling"]

COMPONENT_PREFIX = "pdk:"
"""This program's component type tokens (STYLE.md: ``pdk:<layer>:<Component>``); used when a
snapshot comes without the engine's own list of components (a JSON snapshot)."""

_AWAITED_WORKLOADS = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:yaml/v2:ConfigFile",
)
"""Kubernetes types whose creation Pulumi awaits until their pods run (Helm releases too,
unless ``skipAwait``)."""


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    groups: tuple[str, ...]
    """Enclosing components, outermost first (the clusters of the picture)."""
    inputs: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Edge:
    before: str
    after: str
    kind: EdgeKind


@dataclass
class ResourceGraph:
    stack: str
    nodes: dict[str, Node]
    edges: list[Edge]
    group_types: dict[str, str]
    """Component name -> its type token, for cluster labels."""

    def predecessors(self) -> dict[str, set[str]]:
        before: dict[str, set[str]] = {name: set() for name in self.nodes}
        for edge in self.edges:
            before[edge.after].add(edge.before)
        return before

    def topological_order(self) -> list[str]:
        """Nodes in an order where every edge points forward (Kahn; ties by name)."""
        before = self.predecessors()
        after: dict[str, set[str]] = {name: set() for name in self.nodes}
        for edge in self.edges:
            after[edge.before].add(edge.after)
        waiting = {name: len(deps) for name, deps in before.items()}
        ready = sorted(name for name, count in waiting.items() if count == 0)
        order: list[str] = []
        while ready:
            current = ready.pop(0)
            order.append(current)
            for successor in sorted(after[current]):
                waiting[successor] -= 1
                if waiting[successor] == 0:
                    ready.append(successor)
            ready.sort()
        if len(order) != len(self.nodes):
            stuck = sorted(set(self.nodes) - set(order))
            raise ValueError(f"the resource graph has a cycle through: {', '.join(stuck[:5])}")
        return order


@dataclass(frozen=True)
class CriticalPath:
    chain: list[str]
    """Node names, first to last; each waits for the one before it."""
    total: float
    """Sum of the chain's durations (seconds)."""
    finish: dict[str, float]
    """Earliest finish time of every node (seconds from the start)."""


def is_component(resource: Mapping[str, Any], components: Collection[str] | None) -> bool:
    if components is not None:
        return str(resource["name"]) in components
    return str(resource["type"]).startswith(COMPONENT_PREFIX)


def build_graph(
    snapshot: Mapping[str, Any],
    components: Collection[str] | None = None,
    capacity: Callable[[list[Mapping[str, Any]]], Iterable[str]] | None = None,
) -> ResourceGraph:
    """The graph of a snapshot (``Snapshot.to_dict()``). ``components``: the engine's list of
    component names (``Snapshot.components``); ``capacity``: the target's hook naming the
    resources that bring up the first schedulable nodes."""
    resources: list[Mapping[str, Any]] = list(snapshot["resources"])
    by_name = {str(r["name"]): r for r in resources}
    group_names = {name for name, r in by_name.items() if is_component(r, components)}

    def groups_of(resource: Mapping[str, Any]) -> tuple[str, ...]:
        chain: list[str] = []
        parent = resource.get("parent")
        while parent:
            if parent in group_names:
                chain.append(str(parent))
            parent = by_name[parent].get("parent") if parent in by_name else None
        return tuple(reversed(chain))

    nodes = {
        name: Node(name, str(r["type"]), groups_of(r), r.get("inputs") or {})
        for name, r in by_name.items()
        if name not in group_names
    }
    children: dict[str, list[str]] = {}
    for name, node in nodes.items():
        for group in node.groups:
            children.setdefault(group, []).append(name)

    edges: set[Edge] = set()
    for name, r in by_name.items():
        if name not in nodes:
            continue
        for dep in r.get("dependencies") or []:
            targets = children.get(dep, []) if dep in group_names else [dep]
            edges.update(Edge(t, name, "dependency") for t in targets if t in nodes and t != name)
        provider = r.get("provider")
        if provider and provider in nodes:
            edges.add(Edge(str(provider), name, "provider"))
    graph = ResourceGraph(
        stack=str(snapshot.get("stack", "")),
        nodes=nodes,
        edges=sorted(edges, key=lambda e: (e.before, e.after, e.kind)),
        group_types={name: str(by_name[name]["type"]) for name in group_names},
    )
    if capacity is not None:
        _add_scheduling_edges(graph, [by_name[n] for n in nodes], sorted(capacity(resources)))
    return graph


def awaits_pods(node: Node) -> bool:
    """Whether Pulumi waits for this resource's pods to run before calling it created."""
    if node.type == "kubernetes:helm.sh/v3:Release":
        return not node.inputs.get("skipAwait", False)
    return node.type in _AWAITED_WORKLOADS


def _add_scheduling_edges(
    graph: ResourceGraph, resources: list[Mapping[str, Any]], suppliers: list[str]
) -> None:
    before = graph.predecessors()

    def upstream(name: str) -> set[str]:
        seen: set[str] = set()
        pending = [name]
        while pending:
            for dep in before[pending.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    pending.append(dep)
        return seen

    added: set[Edge] = set()
    for supplier in suppliers:
        if supplier not in graph.nodes:
            continue
        # A workload the supplier itself waits for cannot also wait for the supplier.
        supplier_needs = upstream(supplier)
        for name, node in graph.nodes.items():
            if awaits_pods(node) and name not in supplier_needs and name != supplier:
                added.add(Edge(supplier, name, "scheduling"))
    known = set(graph.edges)
    graph.edges = sorted(known | added, key=lambda e: (e.before, e.after, e.kind))


def critical_path(graph: ResourceGraph, duration: Callable[[Node], float]) -> CriticalPath:
    """The longest chain through the graph, each node weighted by ``duration`` (seconds)."""
    before = graph.predecessors()
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for name in graph.topological_order():
        start, previous = 0.0, None
        for dep in sorted(before[name]):
            if finish[dep] > start:
                start, previous = finish[dep], dep
        finish[name] = start + duration(graph.nodes[name])
        via[name] = previous
    if not finish:
        return CriticalPath([], 0.0, {})
    last = max(sorted(finish), key=lambda n: finish[n])
    chain: list[str] = []
    current: str | None = last
    while current is not None:
        chain.append(current)
        current = via[current]
    chain.reverse()
    return CriticalPath(chain, finish[last], finish)
