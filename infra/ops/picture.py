"""`pdk graph`: the resource graph as DOT, Mermaid, SVG or PNG.

Components become nested clusters, the critical path is drawn in red, provider edges dotted and
scheduling edges (a workload waiting for the first nodes) dashed. SVG and PNG come from
Graphviz's ``dot`` (Debian package ``graphviz``); DOT and Mermaid text need nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from infra.ops.graph import CriticalPath, Edge, ResourceGraph

FORMATS = ("svg", "png", "dot", "mermaid")
CRITICAL = "#c62828"


class GraphvizMissing(Exception):
    pass


def short_type(token: str) -> str:
    """``aws:eks/nodeGroup:NodeGroup`` -> ``aws:NodeGroup``; ``kubernetes:helm.sh/v3:Release``
    -> ``kubernetes:Release``."""
    package, _, rest = token.partition(":")
    return f"{package}:{rest.rsplit(':', 1)[-1]}" if rest else token


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _critical_edges(path: CriticalPath) -> set[tuple[str, str]]:
    return set(zip(path.chain, path.chain[1:], strict=False))


def drawn_edges(graph: ResourceGraph, path: CriticalPath) -> list[Edge]:
    """The transitive reduction of the graph, plus the critical path's own edges: an edge
    ``a -> c`` is left out of the picture when ``a -> b -> ... -> c`` already shows the wait.
    Pictures stay readable and ``dot`` stays fast; the estimate uses every edge."""
    successors: dict[str, set[str]] = {name: set() for name in graph.nodes}
    for edge in graph.edges:
        successors[edge.before].add(edge.after)
    order = graph.topological_order()
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


def to_dot(graph: ResourceGraph, path: CriticalPath, durations: dict[str, float]) -> str:
    chain = set(path.chain)
    on_path = _critical_edges(path)
    lines = [
        f"digraph {_quote('pdk-' + graph.stack)} {{",
        "  rankdir=LR; compound=true; newrank=true; nodesep=0.15; ranksep=0.5;",
        '  graph [fontname="Helvetica", fontsize=11, style=rounded, color="#b0bec5"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eceff1", color="#78909c", '
        'fontname="Helvetica", fontsize=9];',
        "  edge [arrowsize=0.6];",
        f"  label={_quote(f'stack {graph.stack}: critical path {_minutes(path.total)}')};",
        "  labelloc=t;",
    ]
    # Nested clusters: group -> its member nodes and sub-groups.
    members: dict[tuple[str, ...], list[str]] = {}
    for name, node in sorted(graph.nodes.items()):
        members.setdefault(node.groups, []).append(name)
    prefixes = _group_prefixes(graph)

    def emit(prefix: tuple[str, ...], indent: str) -> None:
        for name in members.get(prefix, []):
            node = graph.nodes[name]
            label = f"{name}\\n{short_type(node.type)} · {_minutes(durations.get(name, 0))}"
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
            label = f"{name}<br/>{short_type(graph.nodes[name].type)}"
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
