"""``pdk reap``: take down throwaway stacks whose TTL has passed, a few per run.

The per-run cap and the dry run are the guard rails of any janitor: a bad clock or a bad tag
must not take down everything at once. Each stack goes through the same sequence as
``pdk ci down``; a stack that fails (destroy error, leaks) stays for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console
from rich.table import Table

from infra.ops import backend, ci_down, expiry
from infra.ops.errors import EXIT_FAILED, OpsError


@dataclass
class ReapResult:
    selection: expiry.ReapSelection
    outcomes: dict[str, ci_down.DownResult] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if any(r.exit_code for r in self.outcomes.values()) else 0


def reap(console: Console, now: datetime, dry_run: bool, max_stacks: int) -> ReapResult:
    connected = backend.connect()
    stacks = [(name, connected.tags(name)) for name in connected.stack_names()]
    selection = expiry.select_expired(stacks, now, max_stacks)
    table = Table(title=f"expired stacks on {connected.url} at {expiry.format_time(now)}")
    for column in ("stack", "expired", "overdue", "action"):
        table.add_column(column)
    for candidate in selection.selected:
        action = "would take down" if dry_run else "take down"
        overdue = str(candidate.overdue).split(".")[0]
        table.add_row(candidate.stack, expiry.format_time(candidate.expires), overdue, action)
    for candidate in selection.deferred:
        table.add_row(
            candidate.stack,
            expiry.format_time(candidate.expires),
            "",
            f"next run (--max {max_stacks})",
        )
    console.print(table)
    for name, reason in sorted(selection.skipped.items()):
        console.print(f"  kept {name}: {reason}", highlight=False)
    result = ReapResult(selection)
    if dry_run:
        console.print("dry run: nothing was changed (drop --dry-run to take them down)")
        return result
    for candidate in selection.selected:
        console.rule(candidate.stack)
        try:
            outcome = ci_down.take_down(connected, candidate.stack, console)
        except OpsError as error:  # one stack's problem must not stop the others
            console.print(f"[red]skipped {candidate.stack}:[/] {error}")
            outcome = ci_down.DownResult(candidate.stack, False, False, None)
        result.outcomes[candidate.stack] = outcome
    return result
