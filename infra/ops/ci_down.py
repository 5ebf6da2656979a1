"""``pdk ci down``: drain the cluster, destroy, look for leaks, and only then forget the stack.

The stack record is the only handle on what was deployed, so it is removed last and only when
the leak report is clean: a failed destroy or a leak keeps it for the next attempt (or the
reaper), and the exit code says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.automation import CommandError
from rich.console import Console

from infra.config.types import PROJECT
from infra.ops import backend, drain, expiry, kube
from infra.ops.errors import EXIT_FAILED, OpsError
from infra.ops.leaks import LeakFinder, LeakQuery, LeakReport, render_report
from infra.ops.progress import Progress
from infra.targets import TARGETS


@dataclass(frozen=True)
class DownResult:
    stack: str
    destroyed: bool
    removed: bool
    report: LeakReport | None

    @property
    def exit_code(self) -> int:
        clean = self.report is not None and self.report.clean
        return 0 if self.destroyed and clean else EXIT_FAILED


def _plain_config(config: Mapping[str, Any]) -> dict[str, Any]:
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix): value for key, value in config.items()}


def is_disposable(tags: Mapping[str, str], config: Mapping[str, Any]) -> bool:
    """Made by ``pdk ci up`` (tag) or declared throwaway (``ephemeral: true``)."""
    return expiry.is_ephemeral(tags) or str(config.get(f"{PROJECT}:ephemeral")).lower() == "true"


def take_down(
    connected: backend.Backend,
    name: str,
    console: Console,
    force: bool = False,
    report_path: Path | None = None,
) -> DownResult:
    """The whole sequence for one stack; raises ``OpsError`` only before anything changed."""
    stack = connected.stack(name)
    tags = connected.tags(name)
    config = connected.config(name)
    if not is_disposable(tags, config) and not force:
        raise OpsError(
            f"stack '{name}' is not ephemeral (no {expiry.EPHEMERAL_TAG} tag, ephemeral is not "
            "true): it may hold real data, so `ci down` refuses it; pass --force if you mean it"
        )
    state = connected.state(name)
    outputs = connected.outputs(name)
    deployment_id = (
        tags.get(expiry.DEPLOYMENT_TAG) or config.get(f"{PROJECT}:deploymentId") or name.lower()
    )
    target = str(config.get(f"{PROJECT}:target", ""))
    spec = TARGETS.get(target)
    finder: LeakFinder | None = spec.cleanup if spec is not None else None
    if finder is None:
        raise OpsError(f"stack '{name}' has target '{target}', for which no leak check exists")

    console.print(f"[bold]1/4 drain[/] {name}: objects that make cloud resources outside state")
    namespaces = drain.namespaces_in_state(state)
    api = None
    drained: drain.DrainResult | None = None
    if namespaces:
        try:
            api = kube.api_client(outputs, config)
            drained = drain.drain(api, namespaces, console)
            for line in drained.pending:
                console.print(f"[yellow]still there after the wait:[/] {line}")
            for line in drained.retained:
                console.print(f"[yellow]kept by its reclaim policy:[/] {line}")
        except Exception as error:  # an unreachable cluster must not stop the destroy
            console.print(f"[yellow]drain skipped:[/] {error}")
    else:
        console.print("  nothing deployed in the cluster")

    console.print(f"[bold]2/4 destroy[/] {name}")
    try:
        stack.destroy(on_event=Progress(console))
    except CommandError as error:
        console.print(f"[red]destroy failed:[/] {backend.cli_message(error)}")
        console.print(f"stack '{name}' is kept; rerun `pdk ci down -s {name}` to retry")
        return DownResult(name, destroyed=False, removed=False, report=None)

    if drained is not None and drained.volumes:
        console.print("  waiting for the deleted claims and their volumes to go")
        try:
            for line in drain.wait_for_volumes(drained, console):
                console.print(f"[yellow]still there after the wait:[/] {line}")
        except Exception as error:  # a cloud target's cluster went with the stack
            console.print(
                f"[yellow]cannot see the claims any more[/] ({error}); the leak check looks "
                "for their disks"
            )

    console.print(f"[bold]3/4 leak check[/] deployment id {deployment_id} ({target})")
    query = LeakQuery(deployment_id, _plain_config(config), state, kube=api)
    report = finder(query)
    render_report(console, report)
    if report_path is not None:
        report_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")

    if report.clean or force:
        console.print(f"[bold]4/4 stack rm[/] {name}")
        connected.workspace.remove_stack(name)
        if not report.clean:
            console.print(f"[yellow]removed despite leaks (--force):[/] {len(report.leaks)} left")
        return DownResult(name, destroyed=True, removed=True, report=report)
    console.print(
        f"[red]stack '{name}' is kept:[/] the leak report is not clean; delete what it lists "
        f"(or fix the failed query) and rerun `pdk ci down -s {name}`"
    )
    return DownResult(name, destroyed=True, removed=False, report=report)


def ci_down(
    name: str, console: Console, force: bool = False, report_path: Path | None = None
) -> DownResult:
    return take_down(backend.connect(), name, console, force=force, report_path=report_path)
