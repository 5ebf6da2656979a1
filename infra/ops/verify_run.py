"""``pdk verify`` end to end: read the stack from the backend, run the checks, show them."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from infra.config.types import PROJECT
from infra.ops import backend, kube
from infra.ops.verify import Check, Stack, run_checks


def verify(
    name: str, console: Console, experiment: bool, flow: bool, as_json: bool, timeout: int
) -> list[Check]:
    connected = backend.connect()
    connected.stack(name)
    config = connected.config(name)
    outputs = connected.outputs(name)
    stack = Stack(
        config={key.removeprefix(f"{PROJECT}:"): value for key, value in config.items()},
        outputs=outputs,
        state=connected.state(name),
        kube=kube.api_client(outputs, config),
        timeout=timeout,
    )

    def show(result: Check) -> None:
        if not as_json:
            style = {"pass": "green", "FAIL": "red"}.get(result.status, "yellow")
            console.print(f"[{style}]{result.status:>4}[/] {result.name} ({result.seconds:.1f}s)")

    results = run_checks(stack, experiment=experiment, flow=flow, on_result=show)
    if as_json:
        document = {
            "stack": name,
            "ok": not any(r.failed for r in results),
            "checks": [r.__dict__ for r in results],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return results
    table = Table(title=f"pdk verify {name}")
    for column in ("check", "result", "seconds", "detail"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(result.name, result.status, f"{result.seconds:.1f}", result.detail)
    console.print(table)
    return results
