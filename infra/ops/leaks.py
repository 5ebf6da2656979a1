"""The leak report: what still exists, after ``destroy``, that carries a stack's deployment id.

Each target answers the question its own way (AWS: the tagging API, confirmed by describe
calls; GCP: per-service list calls by label; an existing cluster: a label query). This module
holds the report and how it is shown; the finders live with their targets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


@dataclass(frozen=True)
class Leak:
    """One thing that should be gone and is not (or could not be shown to be gone)."""

    kind: str
    """Service and resource type, e.g. ``ec2:volume``."""
    id: str
    """ARN, self link or ``namespace/name``."""
    location: str
    """Region, zone or cluster."""
    found_by: str
    """The tag, label or list call that found it."""
    confirmed: bool
    """True: a describe/get call says it still exists. False: only an index lists it and no
    call could confirm it, so it counts as a leak until shown otherwise."""
    detail: str = ""


@dataclass
class LeakReport:
    deployment_id: str
    target: str
    queried: list[str] = field(default_factory=list)
    """What was asked (each query, in words), so an empty report says what it covers."""
    leaks: list[Leak] = field(default_factory=list)
    ghosts: list[str] = field(default_factory=list)
    """Index entries a describe call showed to be gone (the tagging API lists deleted
    resources for a while; aws/aws-sdk#302)."""
    errors: list[str] = field(default_factory=list)
    """Queries that failed; a report with errors cannot be called clean."""

    @property
    def clean(self) -> bool:
        return not self.leaks and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "deploymentId": self.deployment_id,
            "target": self.target,
            "clean": self.clean,
            "queried": self.queried,
            "leaks": [asdict(leak) for leak in self.leaks],
            "ghosts": self.ghosts,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class LeakQuery:
    """What a finder gets: who to look for and what the stack looked like before destroy."""

    deployment_id: str
    config: Mapping[str, Any]
    """The stack's config, keys without the project prefix (secrets included, never shown)."""
    state: Sequence[Mapping[str, Any]]
    """The resources Pulumi held before destroy (``stack export``), for names and ids."""
    kube: Any = None
    """A Kubernetes API client, for targets whose cluster outlives the stack."""


LeakFinder = Callable[[LeakQuery], LeakReport]


def render_report(console: Console, report: LeakReport) -> None:
    """The report as a table (or one line when clean)."""
    for query in report.queried:
        console.print(f"  checked: {escape(query)}", highlight=False)
    for error in report.errors:
        console.print(f"[red]query failed:[/] {escape(error)}", highlight=False)
    if report.ghosts:
        console.print(
            f"  {len(report.ghosts)} tag-index entries are already deleted (ignored): "
            + escape(", ".join(report.ghosts[:5]))
            + (" ..." if len(report.ghosts) > 5 else ""),
            highlight=False,
        )
    if not report.leaks:
        verdict = "clean" if report.clean else "incomplete (a query failed)"
        console.print(f"leak report for {report.deployment_id}: {verdict}", highlight=False)
        return
    table = Table(title=f"leaks of {report.deployment_id} ({report.target})")
    for column in ("kind", "id", "where", "found by", "confirmed", "detail"):
        table.add_column(column, overflow="fold")
    for leak in report.leaks:
        table.add_row(
            leak.kind,
            leak.id,
            leak.location,
            leak.found_by,
            "yes" if leak.confirmed else "tag index only",
            leak.detail,
        )
    console.print(table)
