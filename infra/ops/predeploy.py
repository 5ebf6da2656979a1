"""The `pdk estimate`, `pdk graph` and `pdk preflight` commands (registered by ``infra.cli``).

Pulumi and the providers are imported inside the commands, as in the rest of the CLI.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from infra.ops.estimate import CostEstimate, DurationTable, TimeEstimate
    from infra.ops.graph import ResourceGraph
    from infra.ops.hooks import TargetOps

out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)
EXIT_USAGE = 2

StackOption = Annotated[
    str, typer.Option("--stack", "-s", help="Stack name (stacks/Pulumi.<name>.yaml).")
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(EXIT_USAGE)


@dataclass
class PlannedStack:
    stack: str
    target: str
    snapshot: dict[str, Any]
    components: frozenset[str]
    ops: TargetOps

    @property
    def resources(self) -> list[dict[str, Any]]:
        return list(self.snapshot["resources"])

    def graph(self) -> ResourceGraph:
        from infra.ops.graph import build_graph

        return build_graph(self.snapshot, self.components, self.ops.capacity)

    def durations(self) -> DurationTable:
        from infra.ops.estimate import COMMON_TIMES, DurationTable

        paths = [COMMON_TIMES] + ([self.ops.create_times] if self.ops.create_times else [])
        return DurationTable.load(*paths)


def plan_stack(stack: str) -> PlannedStack:
    """Plans STACK under the mock engine; bad input becomes one message and exit 2."""
    from infra.config.load import load_config
    from infra.config.problems import ConfigError
    from infra.ops.hooks import ops_for
    from infra.plan import cli_yaml
    from infra.plan.engine import run_program
    from infra.plan.stackfiles import StackFileError, read_stack

    try:
        raw, secret_keys = read_stack(stack)
        config = load_config(stack, raw, secret_keys)
    except ConfigError as error:
        raise _fail(str(cli_yaml.explained(error, raw))) from None
    except StackFileError as error:
        raise _fail(str(error)) from None
    snapshot = run_program(stack, config)
    target = str(config.target)
    return PlannedStack(stack, target, snapshot.to_dict(), snapshot.components, ops_for(target))


def time_estimate(planned: PlannedStack) -> tuple[ResourceGraph, TimeEstimate]:
    from infra.ops.estimate import estimate_time

    graph = planned.graph()
    return graph, estimate_time(graph, planned.durations())


def cost_estimate(planned: PlannedStack) -> CostEstimate | None:
    from infra.ops.estimate import PriceTable, estimate_cost

    ops = planned.ops
    if ops.price_lines is None:
        return None
    region = ops.region(planned.resources) if ops.region else None
    table = PriceTable.load(ops.prices, region) if ops.prices and region else None
    return estimate_cost(ops.price_lines(planned.resources), table, ops.not_counted)


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}m{round(seconds % 60):02d}s"


def _money(value: float | None) -> str:
    return "not priced" if value is None else f"{value:,.2f}"


def _estimate_json(
    planned: PlannedStack, estimate: TimeEstimate, cost: CostEstimate | None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "stack": planned.stack,
        "time": {
            "critical_path_seconds": estimate.path.total,
            "floor_seconds": estimate.floor,
            "slow_seconds": estimate.slow,
            "chain": [
                {
                    "name": name,
                    "seconds": estimate.durations[name].typical,
                    "source": estimate.durations[name].source,
                }
                for name in estimate.path.chain
            ],
            "missing_entries": estimate.missing,
        },
    }
    if cost is not None:
        hours = cost.hours_per_month
        document["cost"] = {
            "region": cost.region,
            "region_in_price_table": cost.region_known,
            "per_hour": {"min": cost.total_hourly(False), "max": cost.total_hourly(True)},
            "per_month": {
                "min": cost.total_hourly(False) * hours,
                "max": cost.total_hourly(True) * hours,
            },
            "lines": [
                {
                    "what": c.line.what,
                    "item": c.line.item,
                    "quantity": [c.line.quantity_min, c.line.quantity_max],
                    "unit_price": c.price.price if c.price else None,
                    "unit": c.price.unit if c.price else None,
                    "source": c.price.source if c.price else None,
                    "date": c.price.date if c.price else None,
                }
                for c in cost.lines
            ],
            "unpriced": cost.unpriced,
            "not_counted": cost.not_counted,
        }
    return document


def render_estimate(
    console: Console, planned: PlannedStack, estimate: TimeEstimate, cost: CostEstimate | None
) -> None:
    path = estimate.path
    console.print(
        f"[bold]Time to ready for {planned.stack}[/] (critical path): "
        f"[bold]{_clock(path.total)}[/] typical; floor {_clock(estimate.floor)} (every step "
        f"at its fastest sample), slow {_clock(estimate.slow)}",
        highlight=False,
    )
    table = Table(
        show_lines=False, title="The chain that sets the time (each step waits for the one above)"
    )
    for column in ("step", "resource", "type", "typical", "ends at", "source of the figure"):
        table.add_column(column, overflow="fold")
    for index, name in enumerate(path.chain, 1):
        duration = estimate.durations[name]
        table.add_row(
            str(index),
            name,
            _short(name, planned),
            _clock(duration.typical),
            _clock(path.finish[name]),
            duration.source,
        )
    console.print(table)
    if estimate.missing:
        console.print(
            "[yellow]no create time for (counted as 0):[/] " + ", ".join(estimate.missing),
            highlight=False,
        )
    if cost is None:
        console.print(
            f"\n[bold]Cost[/]: the {planned.target} target creates no billed cloud resources; "
            "the cluster's own cost is not estimated.",
            highlight=False,
        )
        return
    hours = cost.hours_per_month
    console.print()
    if not cost.region_known:
        console.print(
            f"[yellow]region {cost.region} is not in the price table[/]: the estimate below "
            "leaves out every item priced per region.",
            highlight=False,
        )
    prices = Table(title=f"Cost in {cost.region} (USD, on-demand list prices)")
    for column in (
        "item",
        "qty min",
        "qty max",
        "unit price",
        "per hour min",
        "per hour max",
        "price of",
    ):
        prices.add_column(column, overflow="fold")
    for line in cost.lines:
        price = line.price
        prices.add_row(
            line.line.what + (f" [dim]({line.line.note})[/]" if line.line.note else ""),
            f"{line.line.quantity_min:g}",
            f"{line.line.quantity_max:g}",
            f"{price.price:g}/{price.unit}" if price else "not in table",
            _money(line.hourly(line.line.quantity_min, hours)),
            _money(line.hourly(line.line.quantity_max, hours)),
            f"{price.date} ({price.checked})" if price else "",
        )
    console.print(prices)
    sources = sorted({(c.line.item, c.price.source) for c in cost.lines if c.price})
    console.print(
        "Price sources: " + "; ".join(f"{item}: {source}" for item, source in sources),
        highlight=False,
    )
    low, high = cost.total_hourly(False), cost.total_hourly(True)
    console.print(
        f"[bold]per hour[/]: {low:,.2f} (node groups at min, GPU pools at zero) to "
        f"{high:,.2f} (every group at max); [bold]per month[/] ({hours:g} h): "
        f"{low * hours:,.0f} to {high * hours:,.0f}",
        highlight=False,
    )
    if cost.unpriced:
        console.print(
            "[yellow]not in the price table, left out:[/] " + ", ".join(cost.unpriced),
            highlight=False,
        )
    console.print("Not counted: " + "; ".join(cost.not_counted) + ".", highlight=False)


def _short(name: str, planned: PlannedStack) -> str:
    from infra.ops.picture import short_type

    for resource in planned.snapshot["resources"]:
        if resource["name"] == name:
            return short_type(str(resource["type"]))
    return ""


def register(app: typer.Typer) -> None:
    """Adds the three commands to the `pdk` app."""

    @app.command()
    def estimate(
        stack: StackOption,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the estimate as JSON.")
        ] = False,
    ) -> None:
        """Time to ready (critical path through the plan) and cost per hour and month, offline."""
        planned = plan_stack(stack)
        _, estimated = time_estimate(planned)
        cost = cost_estimate(planned)
        if as_json:
            sys.stdout.write(
                json.dumps(_estimate_json(planned, estimated, cost), indent=2, sort_keys=True)
                + "\n"
            )
        else:
            render_estimate(out, planned, estimated, cost)

    @app.command()
    def graph(
        stack: StackOption,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="File to write; the format follows its suffix."),
        ] = None,
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                "-f",
                help="svg, png, dot or mermaid (default: from -o, else dot to stdout).",
            ),
        ] = None,
        view: Annotated[
            str,
            typer.Option(
                "--view",
                help="resources (every resource) or components (one box per component: its "
                "critical-path resources and how many more; readable at page width).",
            ),
        ] = "resources",
    ) -> None:
        """The resource graph: components as clusters, the critical path in red."""
        from infra.ops import picture

        suffixes = {
            ".svg": "svg",
            ".png": "png",
            ".dot": "dot",
            ".gv": "dot",
            ".mmd": "mermaid",
            ".mermaid": "mermaid",
        }
        chosen = fmt or (suffixes.get(output.suffix.lower()) if output else "dot")
        if chosen not in picture.FORMATS:
            raise _fail(
                f"unknown graph format {chosen or output}: use -f with one of "
                f"{', '.join(picture.FORMATS)} (or an -o suffix .svg, .png, .dot, .mmd)"
            )
        if view not in picture.VIEWS:
            raise _fail(f"unknown view {view!r}: use --view with one of {', '.join(picture.VIEWS)}")
        if output is not None and not output.parent.is_dir():
            raise _fail(f"{output.parent} is not a folder: create it first, or choose another -o")
        started = time.perf_counter()
        planned = plan_stack(stack)
        graph_, estimated = time_estimate(planned)
        typical = {name: d.typical for name, d in estimated.durations.items()}
        resources = len(graph_.nodes)
        drawn, labels, title, rankdir = graph_, None, "", "LR"
        if view == "components":
            drawn, _, labels = picture.components_view(graph_, estimated.path)
            top = {node.groups[0] for node in graph_.nodes.values() if node.groups}
            title = (
                f"stack {graph_.stack}: {resources} resources in {len(top)} components; "
                f"critical path {_clock(estimated.path.total)} (in red)"
            )
            rankdir = "TB"
        dot_text = picture.to_dot(drawn, estimated.path, typical, labels, title, rankdir)
        data: bytes
        if chosen == "dot":
            data = dot_text.encode()
        elif chosen == "mermaid":
            data = picture.to_mermaid(drawn, estimated.path).encode()
        else:
            try:
                data = picture.render(dot_text, chosen)
            except picture.GraphvizMissing as error:
                raise _fail(str(error)) from None
        if output is None:
            if chosen == "png":
                raise _fail("PNG is binary: write it to a file with -o FILE.png")
            sys.stdout.write(data.decode())
            return
        output.write_bytes(data)
        err.print(
            f"{output}: {view} view of {resources} resources, {len(graph_.edges)} edges, "
            f"critical path {_clock(estimated.path.total)} ({time.perf_counter() - started:.1f} s)",
            highlight=False,
        )

    @app.command()
    def preflight(
        stack: StackOption,
        account: Annotated[
            str | None,
            typer.Option("--account", help="AWS account id the credentials must belong to."),
        ] = None,
        kubeconfig: Annotated[
            str | None,
            typer.Option("--kubeconfig", help="Kubeconfig of an existing cluster."),
        ] = None,
        nfs_job: Annotated[
            bool,
            typer.Option(
                "--nfs-job",
                help="Mount the NFS export from a short Job (creates "
                "and deletes one Job in `default`).",
            ),
        ] = False,
    ) -> None:
        """Read-only checks against the real account or cluster; exit 1 if one fails."""
        from infra.ops.preflight import (
            MissingCredentials,
            PreflightContext,
            exit_code,
            placeholder_checks,
            render,
            run_checks,
        )

        planned = plan_stack(stack)
        placeholders = placeholder_checks(stack)
        if planned.ops.preflight is None:
            raise _fail(f"the {planned.target} target has no preflight checks yet")
        context = PreflightContext(
            stack, planned.resources, account, kubeconfig=kubeconfig, nfs_job=nfs_job
        )
        try:
            results = placeholders + run_checks(planned.ops.preflight(context))
        except MissingCredentials as error:
            if any(check.status == "fail" for check in placeholders):
                render(out, stack, placeholders)
            raise _fail(str(error)) from None
        render(out, stack, results)
        raise typer.Exit(exit_code(results))
