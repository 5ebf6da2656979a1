"""`pdk preflight`: read-only checks against the real account or cluster before `pulumi up`.

The facts to check come from the stack's plan (region, zones, instance types and sizes, the
Kubernetes version, the GPU label and taint MLDE's pods use, the storage class and NFS export
the volumes name), so the checks describe what `pulumi up` would really ask for. Each target
contributes its checks (``infra.ops.hooks.TargetOps.preflight``); each check yields one line:
pass, warn or fail, with the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]


class MissingCredentials(Exception):
    """Nothing could be checked: the message names what is missing and how to provide it."""


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class PreflightContext:
    stack: str
    resources: Sequence[Mapping[str, Any]]
    expect_account: str | None = None
    """AWS account id (or GCP project) the credentials must belong to; None: only reported."""
    kubeconfig: str | None = None
    """Kubeconfig file for an existing cluster; None: $KUBECONFIG or ~/.kube/config."""
    nfs_job: bool = False
    """Start a short Job that mounts the NFS export (the one check that writes)."""
    nfs_timeout: float = 120.0
    clients: Callable[..., Any] | None = None
    """Factory for API clients, replaced by tests: (service, **kwargs) -> client."""
    extra: dict[str, Any] = field(default_factory=dict)

    def of_type(self, token: str) -> list[Mapping[str, Any]]:
        return [r for r in self.resources if r["type"] == token]


def placeholder_checks(stack: str) -> list[Check]:
    """One failed check per key still holding a documentation value (``infra.placeholders``):
    `pulumi up` would refuse it, so preflight says so before any account is asked."""
    from infra.config.load import load_config
    from infra.plan.stackfiles import read_stack

    raw, secret = read_stack(stack)
    config = load_config(stack, raw, secret)
    found = [
        Check(f"placeholder {w.key}", "fail", w.reason, w.fix)
        for w in config.warnings
        if w.placeholder
    ]
    return found or [Check("placeholders", "pass", "no documentation values in the config")]


def run_checks(checks: Iterable[Check]) -> list[Check]:
    """Runs the (lazy) checks in order; one check's failure does not stop the others."""
    return list(checks)


def exit_code(results: Sequence[Check]) -> int:
    return 1 if any(check.status == "fail" for check in results) else 0


_MARK = {"pass": "[green]PASS[/]", "warn": "[yellow]WARN[/]", "fail": "[bold red]FAIL[/]"}


def render(console: Any, stack: str, results: Sequence[Check]) -> None:
    console.print(f"[bold]Preflight for stack {stack}[/]", highlight=False)
    for check in results:
        console.print(f"{_MARK[check.status]} {check.name}: {check.detail}", highlight=False)
        if check.fix and check.status != "pass":
            console.print(f"     fix: {check.fix}", highlight=False)
    counts = {status: sum(c.status == status for c in results) for status in _MARK}
    console.print(
        f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed",
        highlight=False,
    )
