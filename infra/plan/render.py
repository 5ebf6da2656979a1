"""Human-readable views of snapshots and diffs, with rich.

Everything printed here is data (names, values, the ``[secret]`` marker), so it goes to rich as
``Text``, never as markup: a ``[...]`` in a value is printed as it is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infra.plan.diff import PlanDiff
from infra.targets import TARGETS


def _short_type(token: str) -> str:
    """``kubernetes:apps/v1:StatefulSet`` -> ``StatefulSet``; ``random:index/x:RandomPassword``
    -> ``RandomPassword``."""
    return token.rsplit(":", 1)[-1]


def _collect(value: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key and not isinstance(item, (dict, list)):
                found.append(item)
            else:
                found.extend(_collect(item, key))
    elif isinstance(value, list):
        for item in value:
            found.extend(_collect(item, key))
    return found


_CLOUD_FIELDS: dict[str, tuple[str, ...]] = {
    typ: keys for target in TARGETS.values() for typ, keys in target.plan_fields.items()
}
"""Cloud resource inputs worth showing in the plan tree, by resource type (each target
registers its own)."""


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def key_properties(resource: dict[str, Any]) -> str:
    """The few properties worth a glance: object name, images, sizes, secret keys."""
    inputs = resource.get("inputs") or {}
    parts: list[str] = []
    metadata = inputs.get("metadata") if isinstance(inputs.get("metadata"), dict) else None
    if metadata is not None:
        name = metadata.get("name") or "(auto-named)"
        namespace = metadata.get("namespace")
        parts.append(f"{namespace}/{name}" if namespace else str(name))
    if resource["type"] == "kubernetes:helm.sh/v4:Chart":
        parts.append(f"ns={inputs.get('namespace')}")
        parts.append(f"chart={inputs.get('chart')}@{inputs.get('version')}")
        return "  ".join(parts)
    if resource["type"] == "kubernetes:helm.sh/v3:Release":
        parts.append(f"{inputs.get('namespace')}/{inputs.get('name')}")
        parts.append(f"chart={inputs.get('chart')}@{inputs.get('version')}")
        # Chart values nest images deeply and in chart-specific shapes; show the chart only.
        return "  ".join(parts)
    if resource["type"] == "kubernetes:yaml/v2:ConfigFile":
        parts.append(f"file={inputs.get('file')}")
    for image in dict.fromkeys(_collect(inputs, "image")):
        parts.append(f"image={image}")
    for size in dict.fromkeys(_collect(inputs, "storage")):
        parts.append(f"storage={size}")
    for field in ("stringData", "data"):
        if isinstance(inputs.get(field), dict):
            parts.append(f"{field} keys={','.join(sorted(inputs[field]))}")
    if resource["type"].startswith("random:"):
        parts.append(f"length={inputs.get('length')}")
    for key in _CLOUD_FIELDS.get(resource["type"], ()):
        if inputs.get(key) not in (None, "", [], {}):
            parts.append(f"{key}={_brief(inputs[key])}")
    if resource["type"].startswith("pulumi:providers:"):
        parts.extend(f"{key}={value}" for key, value in sorted(inputs.items()) if key != "version")
    return "  ".join(parts)


def render_plan(console: Console, snapshot: dict[str, Any]) -> None:
    resources = snapshot["resources"]
    custom = [r for r in resources if not r["type"].startswith("pdk:")]
    console.print(
        Text.assemble(
            (f"Plan for stack '{snapshot['stack']}'", "bold"),
            f": {len(custom)} resources in {len(resources) - len(custom)} components "
            "(offline, under Pulumi's mock engine)",
        )
    )
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)

    def label(resource: dict[str, Any]) -> Text:
        text = Text()
        if resource["type"].startswith("pdk:"):
            text.append(f"{resource['type']} ", style="bold cyan")
            text.append(resource["name"], style="bold")
            return text
        text.append(f"{_short_type(resource['type'])} ", style="green")
        text.append(resource["name"])
        if resource.get("protect"):
            text.append("  [protected]", style="yellow")
        details = key_properties(resource)
        if details:
            text.append(f"  {details}", style="dim")
        return text

    def add(branch: Tree, parent: str | None) -> None:
        ordered = sorted(
            children.get(parent, []),
            key=lambda r: (not r["type"].startswith("pdk:"), r["type"], r["name"]),
        )
        for resource in ordered:
            add(branch.add(label(resource)), resource["name"])

    tree = Tree(Text(f"stack {snapshot['stack']}"))
    add(tree, None)
    console.print(tree)

    counts = Table(title="Resources by type", show_edge=False)
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for token, count in sorted(Counter(r["type"] for r in custom).items()):
        counts.add_row(Text(token), Text(str(count)))
    console.print(counts)

    outputs = Table(title="Stack outputs", show_edge=False)
    outputs.add_column("name")
    outputs.add_column("value", overflow="fold")
    for name, value in snapshot.get("outputs", {}).items():
        outputs.add_row(Text(name), Text(_show(value)))
    console.print(outputs)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def render_diff(console: Console, diff: PlanDiff) -> None:
    """Data loss first (stateful resources deleted or replaced), then the counts, additions,
    deletions, replacements (``+-``, with the inputs that force them) and updates (``~``)."""
    title = Text.assemble((diff.left, "bold"), " -> ", (diff.right, "bold"))
    if diff.empty:
        console.print(Text.assemble(title, ": no differences"))
        return
    for verb, typ, name, what in diff.data_loss():
        console.print(
            Text.assemble(
                ("DATA LOSS: ", "bold red"),
                (f"{verb} {_short_type(typ)} {name}", "bold red"),
                f" loses {what}",
            )
        )
    console.print(
        Text.assemble(
            title,
            ": ",
            (f"+{len(diff.added)} added", "green"),
            ", ",
            (f"-{len(diff.removed)} removed", "red"),
            ", ",
            (f"+-{len(diff.replaced)} replaced", "magenta"),
            ", ",
            (f"~{len(diff.updated)} changed", "yellow"),
            f", {len(diff.outputs)} output changes",
        )
    )
    for resource in diff.added:
        console.print(
            Text(
                f"+ {_short_type(resource['type'])} {resource['name']}  {key_properties(resource)}",
                style="green",
            )
        )
    for resource in diff.removed:
        console.print(
            Text(
                f"- {_short_type(resource['type'])} {resource['name']}  {key_properties(resource)}",
                style="red",
            )
        )
    for change in diff.replaced:
        console.print(
            Text(
                f"+- {_short_type(change.type)} {change.name}  (replace: deleted and created "
                f"again, because of {', '.join(change.replaced_by)})",
                style="magenta",
            )
        )
        for item in change.changes:
            console.print(Text(f"    {item.path}: {_change(item.before, item.after)}"))
    for change in diff.updated:
        console.print(Text(f"~ {_short_type(change.type)} {change.name}", style="yellow"))
        for item in change.changes:
            console.print(Text(f"    {item.path}: {_change(item.before, item.after)}"))
    if diff.outputs:
        console.print(Text("~ stack outputs", style="yellow"))
        for item in diff.outputs:
            console.print(Text(f"    {item.path}: {_change(item.before, item.after)}"))
    if diff.hidden:
        console.print(
            Text(
                f"({diff.hidden} changes of the stack/deployment-id labels hidden; "
                "--all shows them)",
                style="dim",
            )
        )


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _change(before: Any, after: Any, context: int = 24) -> str:
    """``before -> after``; long strings show each differing word in place, ``{old => new}``,
    with the unchanged stretches between them shortened."""
    if (
        not (isinstance(before, str) and isinstance(after, str))
        or max(len(before), len(after)) <= 120
    ):
        return f"{_value(before)} -> {_value(after)}"
    old, new = re.findall(r"\w+|\W", before), re.findall(r"\w+|\W", after)
    opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    parts: list[str] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag != "equal":
            parts.append(f"{{{''.join(old[i1:i2])} => {''.join(new[j1:j2])}}}")
            continue
        text = "".join(old[i1:i2])
        first, last = index == 0, index == len(opcodes) - 1
        if first and len(text) > context:
            text = "..." + text[-context:]
        elif last and len(text) > context:
            text = text[:context] + "..."
        elif len(text) > 2 * context:
            text = text[:context] + "..." + text[-context:]
        parts.append(text)
    return "".join(parts)
