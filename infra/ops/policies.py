"""`pdk plan`'s policy report: the policy pack's rules (``policy/rules.py``) evaluated offline on
the planned resources, the same functions `pulumi preview --policy-pack policy` runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules import RULES, Violation, evaluate, from_snapshot


def violations(snapshot: Mapping[str, Any]) -> list[Violation]:
    return evaluate(from_snapshot(snapshot))


def render_violations(console: Any, snapshot: Mapping[str, Any], quiet: bool = False) -> None:
    """The report; ``quiet`` says nothing when there is nothing to say (``plan --json``)."""
    found = violations(snapshot)
    if not found:
        if not quiet:
            console.print(
                f"Policy pack (policy/): {len(RULES)} rules, no violations.", highlight=False
            )
        return
    console.print(
        f"[bold red]Policy pack (policy/): {len(found)} violations[/] "
        "(`pulumi preview --policy-pack policy` would block this update):",
        highlight=False,
    )
    for violation in found:
        console.print(
            f"  [red]{violation.rule}[/] {violation.resource}: {violation.message}",
            highlight=False,
        )
