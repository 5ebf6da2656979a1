"""The resource graph, its critical path and its pictures (`pdk graph`), on hand-made graphs and
on every committed stack as the mock engine records it."""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

import pytest

from infra.ops import picture
from infra.ops.graph import Edge, Node, ResourceGraph, build_graph, critical_path
from infra.ops.predeploy import PlannedStack, plan_stack, time_estimate
from tests.conftest import STACKS


def hand_made(edges: list[tuple[str, str]], names: str) -> ResourceGraph:
    nodes = {n: Node(n, "t:x:X", ()) for n in names.split()}
    return ResourceGraph("t", nodes, [Edge(a, b, "dependency") for a, b in edges], {})


def test_critical_path_takes_the_longest_chain_not_the_longest_step() -> None:
    # a(1) -> b(10) -> d(1); a(1) -> c(5) -> d(1); e(11) alone.
    graph = hand_made([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], "a b c d e")
    weights = {"a": 1, "b": 10, "c": 5, "d": 1, "e": 11}
    path = critical_path(graph, lambda node: weights[node.name])
    assert path.chain == ["a", "b", "d"]
    assert path.total == 12
    assert path.finish["c"] == 6 and path.finish["e"] == 11


def test_critical_path_of_a_single_heavy_node_and_of_nothing() -> None:
    graph = hand_made([("a", "b")], "a b c")
    path = critical_path(graph, lambda node: {"a": 1, "b": 1, "c": 5}[node.name])
    assert (path.chain, path.total) == (["c"], 5)
    empty = critical_path(hand_made([], ""), lambda node: 1.0)
    assert (empty.chain, empty.total) == ([], 0.0)


def test_a_cycle_is_reported() -> None:
    graph = hand_made([("a", "b"), ("b", "a")], "a b")
    with pytest.raises(ValueError, match="cycle"):
        graph.topological_order()


def test_component_dependencies_expand_to_children_and_providers_are_edges() -> None:
    snapshot = {
        "stack": "t",
        "resources": [
            {"type": "pdk:x:Group", "name": "g", "parent": None, "dependencies": []},
            {"type": "t:a:A", "name": "g-a", "parent": "g", "dependencies": []},
            {"type": "t:a:A", "name": "g-b", "parent": "g", "dependencies": ["g-a"]},
            {"type": "pulumi:providers:t", "name": "p", "parent": None, "dependencies": []},
            {"type": "t:a:A", "name": "x", "parent": None, "dependencies": ["g"], "provider": "p"},
        ],
    }
    graph = build_graph(snapshot)
    assert set(graph.nodes) == {"g-a", "g-b", "p", "x"}
    assert graph.nodes["g-b"].groups == ("g",)
    assert {(e.before, e.after, e.kind) for e in graph.edges} == {
        ("g-a", "g-b", "dependency"),
        ("g-a", "x", "dependency"),
        ("g-b", "x", "dependency"),
        ("p", "x", "provider"),
    }


@cache
def planned(stack: str) -> PlannedStack:
    return plan_stack(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_engine_components_are_the_pdk_types(stack: str) -> None:
    """The engine's own record of which registrations are components matches the naming
    convention the JSON snapshots rely on."""
    snapshot = planned(stack).snapshot
    convention = {r["name"] for r in snapshot["resources"] if r["type"].startswith("pdk:")}
    assert planned(stack).components == convention


@pytest.mark.parametrize("stack", STACKS)
def test_critical_path_of_every_stack_is_a_real_chain(stack: str) -> None:
    graph, estimate = time_estimate(planned(stack))
    chain = estimate.path.chain
    assert len(chain) >= 3
    edges = {(e.before, e.after) for e in graph.edges}
    for before, after in itertools.pairwise(chain):
        assert (before, after) in edges, (before, after)
    # It starts at something that waits for nothing that takes time (providers take none).
    assert all(estimate.path.finish[p] == 0 for p in graph.predecessors()[chain[0]])
    total = sum(estimate.durations[name].typical for name in chain)
    assert estimate.path.total == pytest.approx(total)
    assert estimate.path.total == pytest.approx(max(estimate.path.finish.values()))
    assert estimate.floor <= estimate.path.total <= estimate.slow


def test_aws_critical_path_runs_through_the_cluster_and_the_first_nodes() -> None:
    graph, estimate = time_estimate(planned("aws"))
    chain = estimate.path.chain
    assert "cluster-eks-cluster" in chain and "cluster-nodes-cpu" in chain
    assert chain.index("cluster-eks-cluster") < chain.index("cluster-nodes-cpu")
    # Workloads wait for the CPU group (pods need nodes), never for the GPU group at zero.
    scheduling = {(e.before, e.after) for e in graph.edges if e.kind == "scheduling"}
    assert ("cluster-nodes-cpu", "cert-manager-release") in scheduling
    assert not any(before == "cluster-nodes-gpu" for before, _ in scheduling)
    # The node group itself waits for nothing it would have to schedule.
    assert ("cluster-nodes-cpu", "cluster-addons-network-vpc-cni") not in scheduling
    assert 15 * 60 < estimate.path.total < 30 * 60


def _declared_ids(dot_text: str) -> set[str]:
    """The resource nodes a DOT text declares (the legend's sample nodes left out)."""
    found = set(re.findall(r'^\s*"([^"]+)" \[label=', dot_text, re.M))
    return {name for name in found if not name.startswith("legend: ")}


@pytest.mark.parametrize("stack", STACKS)
def test_dot_and_mermaid_name_every_resource_once(stack: str) -> None:
    graph, estimate = time_estimate(planned(stack))
    durations = {n: d.typical for n, d in estimate.durations.items()}
    dot_text = picture.to_dot(graph, estimate.path, durations)
    assert _declared_ids(dot_text) == set(graph.nodes)
    for group in {g for node in graph.nodes.values() for g in node.groups}:
        assert re.search(rf'subgraph "cluster_[^"]*{re.escape(group)}"', dot_text), group
    mermaid = picture.to_mermaid(graph, estimate.path)
    declared = re.findall(r'^\s*(n_\w+)\["', mermaid, re.M)
    assert len(declared) == len(set(declared)) == len(graph.nodes)
    for a, b in re.findall(r"^\s*(n_\w+) -\.?->\.? ?(n_\w+)$", mermaid, re.M):
        assert a in declared and b in declared
    opened = re.findall(r"^\s*subgraph ", mermaid, re.M)
    assert len(opened) == len(re.findall(r"^\s*end$", mermaid, re.M)) > 0


def test_the_picture_keeps_every_wait_it_leaves_out() -> None:
    """The transitive reduction drops only edges implied by a longer chain."""
    graph, estimate = time_estimate(planned("aws"))
    drawn = picture.drawn_edges(graph, estimate.path)
    after: dict[str, set[str]] = {}
    for edge in drawn:
        after.setdefault(edge.before, set()).add(edge.after)

    def reaches(a: str, b: str) -> bool:
        pending, seen = [a], set()
        while pending:
            for nxt in after.get(pending.pop(), ()):
                if nxt == b:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    pending.append(nxt)
        return False

    assert len(drawn) < len(graph.edges)
    for edge in graph.edges:
        assert reaches(edge.before, edge.after), edge


# Skipped only outside CI: .ci/run installs Graphviz, so in CI a missing `dot` fails.
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"),
    reason="Graphviz `dot` not installed (apt-get install graphviz; .ci/run installs it)",
)


@needs_dot
@pytest.mark.parametrize("stack", STACKS)
def test_graphviz_parses_the_dot_and_the_svg_is_well_formed(stack: str) -> None:
    graph, estimate = time_estimate(planned(stack))
    durations = {n: d.typical for n, d in estimate.durations.items()}
    dot_text = picture.to_dot(graph, estimate.path, durations)
    svg = picture.render(dot_text, "svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert set(graph.nodes) <= titles
    # The critical path is drawn in its colour.
    assert picture.CRITICAL in svg.decode()


def test_graph_command_writes_files_and_refuses_bad_formats(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from infra.cli import app

    runner = CliRunner()
    mermaid = tmp_path / "local.mmd"
    result = runner.invoke(app, ["graph", "-s", "local", "-o", str(mermaid)])
    assert result.exit_code == 0, result.output
    assert mermaid.read_text().startswith("flowchart LR")
    bad = runner.invoke(app, ["graph", "-s", "local", "-o", str(tmp_path / "x.jpg")])
    assert bad.exit_code == 2 and "unknown graph format" in bad.output
    unknown = runner.invoke(app, ["graph", "-s", "nope"])
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output


def _svg_titles(svg: str) -> set[str]:
    return {html.unescape(t) for t in re.findall(r"<title>([^<]+)</title>", svg)}


def _svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@needs_dot
def test_committed_aws_pictures_are_current() -> None:
    """The README's pictures are regenerated by `pdk graph -s aws --view components -o
    docs/aws-stack.svg` and `pdk graph -s aws -o docs/aws-stack-full.svg`; they must show
    today's resources: every one in the full picture, the critical path in the summary."""
    from infra.plan.stackfiles import REPO_ROOT

    graph, estimate = time_estimate(planned("aws"))
    full = (REPO_ROOT / "docs" / "aws-stack-full.svg").read_text()
    missing = set(graph.nodes) - _svg_titles(full)
    assert not missing, f"regenerate docs/aws-stack-full.svg; missing {sorted(missing)[:5]}"
    summary = (REPO_ROOT / "docs" / "aws-stack.svg").read_text()
    missing = set(estimate.path.chain) - _svg_titles(summary)
    assert not missing, f"regenerate docs/aws-stack.svg; missing {sorted(missing)[:5]}"


@needs_dot
@pytest.mark.parametrize("view", picture.VIEWS)
def test_labels_break_lines_for_real_and_a_legend_explains_the_styles(view: str) -> None:
    """Every label used to show a literal backslash-n (the break was escaped twice)."""
    graph, estimate = time_estimate(planned("aws"))
    durations = {n: d.typical for n, d in estimate.durations.items()}
    labels: dict[str, str] | None = None
    if view == "components":
        graph, _, labels = picture.components_view(graph, estimate.path)
    svg = picture.render(picture.to_dot(graph, estimate.path, durations, labels), "svg").decode()
    texts = _svg_texts(svg)
    assert not [t for t in texts if "\\n" in t]
    # Each node's name and its type/duration sit on two lines (two text elements).
    name = estimate.path.chain[0]
    at = texts.index(name)
    assert re.fullmatch(r"\S+:\S+ · \d+(m\d\ds|s)", texts[at + 1]), texts[at + 1]
    assert picture.LEGEND in _svg_titles(svg)
    for meaning in (
        "on the critical path",
        "waits for (Pulumi dependency)",
        "uses the provider of",
        "pods wait for the first nodes",
    ):
        assert meaning in texts


@needs_dot
def test_the_components_view_is_readable_at_page_width() -> None:
    """The full aws picture is thousands of points wide; the summary keeps the critical path,
    one "more" node per component, and a size a README can show."""
    graph, estimate = time_estimate(planned("aws"))
    durations = {n: d.typical for n, d in estimate.durations.items()}
    summary, path, labels = picture.components_view(graph, estimate.path)
    top = {node.groups[0] for node in graph.nodes.values() if node.groups}
    assert set(path.chain) <= set(summary.nodes)
    assert len(summary.nodes) <= len(path.chain) + len(top) + 1 < len(graph.nodes) / 3
    # Every resource is counted once: on the path, or in its component's "more" node.
    counted = sum(int(text.split()[0]) for text in labels.values())
    assert counted + len(path.chain) == len(graph.nodes)
    dot_text = picture.to_dot(summary, path, durations, labels, rankdir="TB")
    svg = picture.render(dot_text, "svg").decode()
    root = ET.fromstring(svg)
    width = float(root.attrib["width"].removesuffix("pt"))
    full_width = float(
        ET.fromstring(picture.render(picture.to_dot(graph, path, durations), "svg"))
        .attrib["width"]
        .removesuffix("pt")
    )
    assert width < full_width / 3 and width < 1200, (width, full_width)


def test_merged_nodes_keep_one_edge_per_pair_and_survive_a_cycle() -> None:
    """Merging can join two components both ways (a -> x, y -> b across them): the view
    still draws, unreduced, instead of failing on the cycle."""
    nodes = {
        "a": Node("a", "t:x:X", ("g1",)),
        "b": Node("b", "t:x:X", ("g1",)),
        "x": Node("x", "t:x:X", ("g2",)),
        "y": Node("y", "t:x:X", ("g2",)),
        "z": Node("z", "t:x:X", ("g3",)),
    }
    edges = [Edge("a", "x", "dependency"), Edge("y", "b", "dependency"), Edge("a", "x", "provider")]
    graph = ResourceGraph("t", nodes, edges, {"g1": "pdk:x:G", "g2": "pdk:x:G", "g3": "pdk:x:G"})
    path = critical_path(graph, lambda node: 5.0 if node.name == "z" else 1.0)
    summary, _, labels = picture.components_view(graph, path)
    pairs = [(e.before, e.after) for e in summary.edges]
    assert len(pairs) == len(set(pairs))
    assert ("g1: more", "g2: more") in pairs and ("g2: more", "g1: more") in pairs
    assert picture.drawn_edges(summary, path)  # no ValueError on the cycle
    assert labels["g2: more"].startswith("2 more resources")


def test_graph_refuses_a_missing_output_folder_and_an_unknown_view(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from infra.cli import app

    runner = CliRunner()
    missing = runner.invoke(app, ["graph", "-s", "local", "-o", str(tmp_path / "no" / "x.svg")])
    assert missing.exit_code == 2 and "is not a folder" in " ".join(missing.output.split())
    assert "Traceback" not in missing.output
    view = runner.invoke(app, ["graph", "-s", "local", "--view", "everything"])
    assert view.exit_code == 2 and "unknown view" in view.output
