"""`pdk graph`: the resource graph as DOT, Mermaid, SVG or PNG.

Components become nested clusters, the critical path is drawn in red, provider edges dotted and
scheduling edges (a workload waiting for the first nodes) dashed; a legend says so. Two views:
``resources`` (every resource) and ``components`` (each top-level component is one box holding
only its resources on the critical path and one "N more" node for the rest), which stays
readable at page width. SVG and PNG come from Graphviz's ``dot`` (Debian package ``graphviz``);
DOT and Mermaid text need nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from infra.ops.graph import CriticalPath, Edge, EdgeKind, Node, ResourceGraph

FORMATS = ("svg", "png", "dot", "mermaid")
VIEWS = ("resources", "components")
CRITICAL = "#c62828"
LEGEND = "cluster_legend"


class GraphvizMissing(Exception):
    pass


def short_type(token: str) -> str:
    """``aws:eks/nodeGroup:NodeGroup`` -> ``aws:NodeGroup``; ``kubernetes:helm.sh/v3:Release``
    -> ``kubernetes:Release``."""
    package, _, rest = token.partition(":")
    return f"{package}:{rest.rsplit(':', 1)[-1]}" if rest else token


def _quote(text: str) -> str:
    """A DOT string; a newline in ``text`` becomes DOT's centred line break ``\\n`` (escaping
    the backslash of a pre-written ``\\n`` instead drew it literally in every label)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def _critical_edges(path: CriticalPath) -> set[tuple[str, str]]:
    return set(zip(path.chain, path.chain[1:], strict=False))


def drawn_edges(graph: ResourceGraph, path: CriticalPath) -> list[Edge]:
    """The transitive reduction of the graph, plus the critical path's own edges: an edge
    ``a -> c`` is left out of the picture when ``a -> b -> ... -> c`` already shows the wait.
    Pictures stay readable and ``dot`` stays fast; the estimate uses every edge. A graph with
    a cycle (possible once resources are merged into "N more" nodes) is drawn unreduced."""
    successors: dict[str, set[str]] = {name: set() for name in graph.nodes}
    for edge in graph.edges:
        successors[edge.before].add(edge.after)
    try:
        order = graph.topological_order()
    except ValueError:
        return list(graph.edges)
    reach: dict[str, set[str]] = {}
    for name in reversed(order):
        reached: set[str] = set()
        for nxt in successors[name]:
            reached.add(nxt)
            reached |= reach[nxt]
        reach[name] = reached
    keep_pairs = _critical_edges(path)
    kept: list[Edge] = []
    for edge in graph.edges:
        pair = (edge.before, edge.after)
        indirect = any(
            edge.after in reach[other] for other in successors[edge.before] if other != edge.after
        )
        if pair in keep_pairs or not indirect:
            kept.append(edge)
    return kept


def _edge_style(edge: Edge, critical: bool) -> str:
    styles = {"dependency": "solid", "provider": "dotted", "scheduling": "dashed"}
    color = f', color="{CRITICAL}", penwidth=2.5' if critical else ', color="#90a4ae"'
    return f"style={styles[edge.kind]}{color}"


def to_dot(
    graph: ResourceGraph,
    path: CriticalPath,
    durations: dict[str, float],
    labels: dict[str, str] | None = None,
    title: str = "",
    rankdir: str = "LR",
) -> str:
    """DOT text; ``labels`` replaces a node's second line (the components view's "N more");
    ``rankdir`` TB stacks the critical path downwards (the summary, at page width)."""
    chain = set(path.chain)
    on_path = _critical_edges(path)
    heading = title or f"stack {graph.stack}: critical path {_minutes(path.total)}"
    lines = [
        f"digraph {_quote('pdk-' + graph.stack)} {{",
        f"  rankdir={rankdir}; compound=true; newrank=true; nodesep=0.15; ranksep=0.5;",
        '  graph [fontname="Helvetica", fontsize=11, style=rounded, color="#b0bec5"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eceff1", color="#78909c", '
        'fontname="Helvetica", fontsize=9];',
        "  edge [arrowsize=0.6];",
        f"  label={_quote(heading)};",
        "  labelloc=t;",
    ]
    lines.extend(_legend())
    # Nested clusters: group -> its member nodes and sub-groups.
    members: dict[tuple[str, ...], list[str]] = {}
    for name, node in sorted(graph.nodes.items()):
        members.setdefault(node.groups, []).append(name)
    prefixes = _group_prefixes(graph)

    def emit(prefix: tuple[str, ...], indent: str) -> None:
        for name in members.get(prefix, []):
            node = graph.nodes[name]
            second = (labels or {}).get(name) or (
                f"{short_type(node.type)} · {_minutes(durations.get(name, 0))}"
            )
            label = f"{name}\n{second}"
            extra = (
                f', fillcolor="#ffebee", color="{CRITICAL}", penwidth=2' if name in chain else ""
            )
            lines.append(f"{indent}{_quote(name)} [label={_quote(label)}{extra}];")
        for child in prefixes:
            if len(child) == len(prefix) + 1 and child[: len(prefix)] == prefix:
                group = child[-1]
                title = f"{group} ({short_type(graph.group_types.get(group, ''))})"
                lines.append(f"{indent}subgraph {_quote('cluster_' + '/'.join(child))} {{")
                lines.append(f"{indent}  label={_quote(title)};")
                emit(child, indent + "  ")
                lines.append(f"{indent}}}")

    emit((), "  ")
    for edge in drawn_edges(graph, path):
        critical = (edge.before, edge.after) in on_path
        lines.append(
            f"  {_quote(edge.before)} -> {_quote(edge.after)} [{_edge_style(edge, critical)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend() -> list[str]:
    """A small cluster that names what colours and line styles mean."""
    node = '[shape=box, style="rounded,filled", fillcolor="#eceff1", fontsize=8]'
    lines = [
        f"  subgraph {LEGEND} {{",
        '    label="legend"; fontsize=9; color="#cfd8dc";',
        f'    "legend: critical" [label="on the critical path", fillcolor="#ffebee", '
        f'color="{CRITICAL}", penwidth=2, shape=box, style="rounded,filled", fontsize=8];',
    ]
    kinds: tuple[tuple[EdgeKind, str], ...] = (
        ("dependency", "waits for (Pulumi dependency)"),
        ("provider", "uses the provider of"),
        ("scheduling", "pods wait for the first nodes"),
    )
    for kind, meaning in kinds:
        lines.append(f'    "legend: {kind} a" [label="", width=0.2, height=0.2] {node};')
        lines.append(f'    "legend: {kind} b" [label={_quote(meaning)}] {node};')
        style = _edge_style(Edge("a", "b", kind), critical=False)
        lines.append(f'    "legend: {kind} a" -> "legend: {kind} b" [{style}];')
    lines.append("  }")
    return lines


def components_view(
    graph: ResourceGraph, path: CriticalPath
) -> tuple[ResourceGraph, CriticalPath, dict[str, str]]:
    """The summarised graph: resources on the critical path stay as they are, every other
    resource merges into one "<component>: N more" node of its top-level component (ungrouped
    ones into "stack: N more"); edges between merged nodes are kept once. Returns the graph,
    the same critical path and the merged nodes' labels."""
    chain = set(path.chain)

    def merged(name: str) -> str:
        groups = graph.nodes[name].groups
        return f"{groups[0] if groups else 'stack'}: more"

    show = {name: name if name in chain else merged(name) for name in graph.nodes}
    counts: dict[str, int] = {}
    for name, shown in show.items():
        if shown != name:
            counts[shown] = counts.get(shown, 0) + 1
    nodes: dict[str, Node] = {}
    for name, node in graph.nodes.items():
        shown = show[name]
        if shown == name:
            nodes[name] = Node(name, node.type, node.groups[:1])
        elif shown not in nodes:
            nodes[shown] = Node(shown, "", node.groups[:1])
    edges = {
        Edge(show[e.before], show[e.after], e.kind)
        for e in graph.edges
        if show[e.before] != show[e.after]
    }
    # One edge per pair: a Pulumi dependency outranks a provider or scheduling wait.
    rank = {"dependency": 0, "provider": 1, "scheduling": 2}
    best: dict[tuple[str, str], Edge] = {}
    for edge in sorted(edges, key=lambda e: rank[e.kind]):
        best.setdefault((edge.before, edge.after), edge)
    summary = ResourceGraph(
        stack=graph.stack,
        nodes=nodes,
        edges=sorted(best.values(), key=lambda e: (e.before, e.after, e.kind)),
        group_types=graph.group_types,
    )
    labels = {
        shown: f"{count} more resource{'s' if count != 1 else ''} (off the critical path)"
        for shown, count in counts.items()
    }
    return summary, path, labels


def _group_prefixes(graph: ResourceGraph) -> list[tuple[str, ...]]:
    """Every enclosing-group path (outermost first) that holds a node, for nested clusters."""
    return sorted(
        {node.groups[:i] for node in graph.nodes.values() for i in range(1, len(node.groups) + 1)}
    )


def _mermaid_id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def to_mermaid(graph: ResourceGraph, path: CriticalPath) -> str:
    chain = set(path.chain)
    on_path = _critical_edges(path)
    lines = ["flowchart LR"]
    members: dict[tuple[str, ...], list[str]] = {}
    for name, node in sorted(graph.nodes.items()):
        members.setdefault(node.groups, []).append(name)
    prefixes = _group_prefixes(graph)

    def emit(prefix: tuple[str, ...], indent: str) -> None:
        for name in members.get(prefix, []):
            kind = short_type(graph.nodes[name].type) if graph.nodes[name].type else "more"
            label = f"{name}<br/>{kind}"
            lines.append(f'{indent}{_mermaid_id(name)}["{label}"]')
        for child in prefixes:
            if len(child) == len(prefix) + 1 and child[: len(prefix)] == prefix:
                lines.append(
                    f'{indent}subgraph {_mermaid_id("g/" + "/".join(child))}["{child[-1]}"]'
                )
                emit(child, indent + "  ")
                lines.append(f"{indent}end")

    emit((), "  ")
    critical_links: list[int] = []
    arrows = {"dependency": "-->", "provider": "-.->", "scheduling": "-.->"}
    for index, edge in enumerate(drawn_edges(graph, path)):
        lines.append(f"  {_mermaid_id(edge.before)} {arrows[edge.kind]} {_mermaid_id(edge.after)}")
        if (edge.before, edge.after) in on_path:
            critical_links.append(index)
    lines.append(f"  classDef critical fill:#ffebee,stroke:{CRITICAL},stroke-width:2px")
    if chain:
        lines.append(f"  class {','.join(_mermaid_id(n) for n in sorted(chain))} critical")
    if critical_links:
        indexes = ",".join(str(i) for i in critical_links)
        lines.append(f"  linkStyle {indexes} stroke:{CRITICAL},stroke-width:3px")
    return "\n".join(lines) + "\n"


def render(dot_text: str, fmt: str) -> bytes:
    """SVG or PNG bytes from DOT text, through Graphviz's ``dot``."""
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissing(
            "Graphviz's `dot` is not installed (Debian/Ubuntu: apt-get install graphviz; "
            "macOS: brew install graphviz); `-f dot` and `-f mermaid` need nothing"
        )
    result = subprocess.run(
        [binary, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode().strip()}")
    return result.stdout


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
