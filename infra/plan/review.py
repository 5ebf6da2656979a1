"""A plan diff as GitHub-flavoured markdown, for a pull-request comment.

One section per stack: a summary line, the resources added and removed, and each changed
resource with its changed properties (before and after). Long parts fold into ``<details>`` so
a comment stays readable; values are shortened and made table-safe. The snapshots are already
redacted (``[secret]``); as a second guard, a property whose name says it holds a credential
is never shown in clear, whatever its value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from enum import StrEnum
from html import escape
from typing import Any

from infra.plan.diff import Change, PlanDiff, diff_snapshots
from infra.plan.stackfiles import known_stacks


class DiffFormat(StrEnum):
    """``pdk diff --format``."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


COMMENT_MARKER = "<!-- pdk-diff -->"
"""The first line of the PR comment; the workflow finds and updates the comment by it."""

FOLD_PROPERTIES = 8
"""A changed resource with more properties than this folds its table."""
FOLD_RESOURCES = 15
"""More added, removed or changed resources than this fold the list."""
MAX_VALUE = 80
"""Characters of a value shown in a table cell."""

_CREDENTIAL = re.compile(
    r"(password|passwd|secret|token|private[_-]?key|access[_-]?key|secret[_-]?key|kubeconfig)$",
    re.IGNORECASE,
)
REDACTED = "[secret]"


def _last_segment(path: str) -> str:
    return re.split(r"[.\[\]]", path.rstrip("]"))[-1]


def _text(value: Any, path: str) -> str:
    if path and _CREDENTIAL.search(_last_segment(path)):
        value = REDACTED
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _cell(value: Any, path: str = "", start: int = 0) -> str:
    """A table-safe, shortened value; ``start`` skips a prefix both sides share, so two long
    values that differ late still show their difference."""
    if value is None:
        return "—"
    text = _text(value, path)
    if start > 0:
        text = "…" + text[start:]
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE - 1] + "…"
    text = text.replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return f"`{text}`"


def _shared_prefix(change: Change) -> int:
    """Where to start showing a long changed value: a little before the first difference."""
    if change.before is None or change.after is None:
        return 0
    before, after = _text(change.before, change.path), _text(change.after, change.path)
    if max(len(before), len(after)) <= MAX_VALUE:
        return 0
    same = 0
    for left, right in zip(before, after, strict=False):
        if left != right:
            break
        same += 1
    return max(0, same - 20)


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _fold(summary: str, body: list[str], fold: bool) -> list[str]:
    if not fold:
        return body
    # Markdown is not rendered inside <summary>: code spans become HTML.
    html = re.sub(r"`([^`]*)`", lambda m: f"<code>{escape(m.group(1))}</code>", summary)
    return ["<details>", f"<summary>{html}</summary>", "", *body, "", "</details>"]


def _resource_list(title: str, sign: str, resources: list[dict[str, Any]]) -> list[str]:
    if not resources:
        return []
    rows = ["| | resource | type |", "|---|---|---|"] + [
        f"| {sign} | `{r['name']}` | `{r['type']}` |" for r in resources
    ]
    summary = f"{title} ({len(resources)})"
    folded = len(resources) > FOLD_RESOURCES
    return ([] if folded else [f"**{summary}**", ""]) + _fold(summary, rows, folded) + [""]


def _changes_table(changes: list[Change]) -> list[str]:
    return ["| property | before | after |", "|---|---|---|"] + [
        f"| `{c.path}` | {_cell(c.before, c.path, _shared_prefix(c))} "
        f"| {_cell(c.after, c.path, _shared_prefix(c))} |"
        for c in changes
    ]


def render_markdown(diff: PlanDiff, stack: str) -> str:
    """One stack's section. ``stack`` is the name shown (``diff.left``/``right`` carry refs)."""
    counts = (
        f"{len(diff.added)} to add, {len(diff.updated)} to change, "
        f"{len(diff.replaced)} to replace, {len(diff.removed)} to remove"
    )
    if diff.empty:
        return f"### `{stack}`: no changes\n"
    lines = [f"### `{stack}`: {counts}", "", f"`{diff.left}` → `{diff.right}`", ""]
    lost = diff.data_loss()
    if lost:
        # First and never folded: a reviewer must not miss a deleted database.
        lines += [
            "> [!CAUTION]",
            f"> **Data loss**: this change deletes or replaces "
            f"{_count(len(lost), 'resource that holds', 'resources that hold')} data.",
            ">",
            *(f"> - **{verb}** `{name}` (`{typ}`): loses {what}" for verb, typ, name, what in lost),
            "",
        ]
    lines += _resource_list("Added", "+", diff.added)
    lines += _resource_list("Removed", "-", diff.removed)
    for heading, group in (("Replaced", diff.replaced), ("Changed", diff.updated)):
        if not group:
            continue
        changed: list[str] = []
        for resource in group:
            count = _count(len(resource.changes), "property", "properties")
            title = f"`{resource.name}` (`{resource.type}`): {count}"
            if resource.replaced:
                because = ", ".join(f"`{path}`" for path in resource.replaced_by)
                title += f"; **replace** (deleted and created again) because of {because}"
            fold = len(resource.changes) > FOLD_PROPERTIES
            changed += ([] if fold else [f"**{title}**", ""]) + _fold(
                title, _changes_table(resource.changes), fold
            )
            changed.append("")
        summary = f"{heading} ({len(group)})"
        folded = len(group) > FOLD_RESOURCES and heading == "Changed"
        lines += ([] if folded else [f"**{summary}**", ""]) + _fold(summary, changed, folded)
        lines.append("")
    if diff.outputs:
        lines += ["**Outputs**", "", *_changes_table(diff.outputs), ""]
    if diff.hidden:
        lines += [f"_{diff.hidden} stack/deployment-id label changes not shown._", ""]
    return "\n".join(lines).rstrip() + "\n"


MAX_COMMENT = 60_000
"""GitHub refuses comments over 65,536 characters."""


def comment(sections: dict[str, str], unchanged: list[str], ref: str) -> str:
    """The whole PR comment: marker, heading, each changed stack's section, the rest named."""
    head = [
        COMMENT_MARKER,
        f"## Offline plan diff against `{ref}`",
        "",
        "Planned with `pdk diff --against` under Pulumi's mock engine: no cloud credentials, "
        "values only known after deployment show as `[unknown]`, secrets as `[secret]`.",
        "",
    ]
    if not sections:
        head.append("No stack's plan changes.")
    if unchanged and sections:
        head.append("No changes: " + ", ".join(f"`{name}`" for name in unchanged) + ".")
    text = "\n".join(head) + "\n\n" + "\n".join(sections.values())
    if len(text) > MAX_COMMENT:
        text = text[:MAX_COMMENT].rsplit("\n", 1)[0] + (
            "\n\n_Truncated: the full diff is in the job's `plan-diff` artifact._\n"
        )
    return text


Snapshotter = Callable[..., dict[str, Any]]


def review_comment(
    ref: str, at_ref: Snapshotter, now: Snapshotter, stacks: list[str] | None = None
) -> tuple[str, bool]:
    """Every stack (in ``stacks/`` now) against itself at ``ref``, as one comment; and whether
    anything changed. ``at_ref(stack, ref)`` and ``now(stack)`` plan a snapshot."""
    sections: dict[str, str] = {}
    unchanged: list[str] = []
    for name in stacks if stacks is not None else known_stacks():
        result = diff_snapshots(at_ref(name, ref), now(name))
        if result.empty:
            unchanged.append(name)
        else:
            sections[name] = render_markdown(result, name)
    return comment(sections, unchanged, ref), bool(sections)
