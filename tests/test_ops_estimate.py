"""`pdk estimate`: the create-time and price tables cover what the stacks create, and the cost
arithmetic (min and max quantities, GPU pools at zero, per-month) is right."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app
from infra.ops.estimate import (
    COMMON_TIMES,
    CostLine,
    DurationTable,
    Price,
    PriceLine,
    PriceTable,
    estimate_cost,
    load_balancer_services,
)
from infra.ops.hooks import ops_for
from infra.ops.predeploy import PlannedStack, cost_estimate, plan_stack, time_estimate
from infra.plan.stackfiles import REPO_ROOT
from infra.targets.aws import ops as aws_ops
from tests.conftest import STACKS, TARGET_OF

runner = CliRunner()


@cache
def planned(stack: str) -> PlannedStack:
    return plan_stack(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_every_planned_resource_has_a_create_time(stack: str) -> None:
    """Fails when a resource type (or Helm chart, or EKS add-on) appears without an entry:
    add it to infra/ops/create_times.yaml or the target's create_times.yaml, with a source."""
    _, estimate = time_estimate(planned(stack))
    assert estimate.missing == []


@pytest.mark.parametrize(
    "path", [COMMON_TIMES, *sorted((REPO_ROOT / "infra/targets").glob("*/create_times.yaml"))]
)
def test_every_create_time_has_a_source_and_ordered_figures(path: Path) -> None:
    table = DurationTable.load(path)
    entries = list(table.types.values()) + [
        entry for _, entries in table.keyed.values() for entry in entries.values()
    ]
    assert entries
    for entry in entries:
        assert entry.source.strip()
        assert 0 <= entry.low <= entry.typical <= entry.high


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "infra/targets").glob("*/prices.yaml")))
def test_every_price_has_a_source_a_date_and_a_check(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    for region, items in document["regions"].items():
        for key, item in items.items():
            assert item["price"] > 0, (region, key)
            assert item["unit"] in ("hour", "month", "gb-month"), (region, key)
            assert item["source"] and item["date"], (region, key)
            assert item["checked"] in ("stored copy", "not re-verified"), (region, key)


@pytest.mark.parametrize("stack", [s for s in STACKS if ops_for(TARGET_OF[s]).prices])
def test_every_priced_item_of_a_stack_is_in_its_regions_table(stack: str) -> None:
    cost = cost_estimate(planned(stack))
    assert cost is not None and cost.region_known
    assert cost.unpriced == []


def test_cost_arithmetic_min_max_and_month() -> None:
    table = PriceTable(
        "r",
        {
            "node": Price(0.5, "hour", "s", "d", "c"),
            "disk": Price(0.08, "gb-month", "s", "d", "c"),
            "key": Price(1.0, "month", "s", "d", "c"),
        },
        730.0,
        ("r",),
    )
    lines = [
        PriceLine("nodes", "node", 1, 4),
        PriceLine("disks", "disk", 100, 400),
        PriceLine("key", "key", 1, 1),
        PriceLine("missing", "nowhere", 1, 1),
    ]
    cost = estimate_cost(lines, table, ["egress"])
    assert cost.total_hourly(False) == pytest.approx(0.5 + 100 * 0.08 / 730 + 1 / 730)
    assert cost.total_hourly(True) == pytest.approx(2.0 + 400 * 0.08 / 730 + 1 / 730)
    assert cost.total_hourly(True) * 730 == pytest.approx(2.0 * 730 + 32 + 1)
    assert cost.unpriced == ["nowhere"]
    assert CostLine(lines[3], None).hourly(1, 730) is None


def test_aws_lines_follow_the_plan() -> None:
    resources = planned("aws").resources
    lines = {line.item: line for line in aws_ops.price_lines(resources)}
    cpu = lines["ec2.m5.2xlarge"]
    assert (cpu.quantity_min, cpu.quantity_max) == (1, 4)
    gpu = lines["ec2.g4dn.xlarge"]
    assert (gpu.quantity_min, gpu.quantity_max) == (0, 2)  # GPU pools shown at zero and max
    assert "GPU" in gpu.what
    # Root volumes: 200 GB per node at min (1 CPU node) and max (4 CPU + 2 GPU).
    disks = [line for line in aws_ops.price_lines(resources) if line.item == "ebs.gp3"]
    assert sum(d.quantity_min for d in disks) == 200
    assert sum(d.quantity_max for d in disks) == 6 * 200
    assert (lines["vpc.nat_gateway"].quantity_min, lines["vpc.nat_gateway"].quantity_max) == (3, 3)
    assert lines["rds.postgres.db.m6g.large"].quantity_max == 1
    assert lines["rds.gp3"].quantity_max == 100
    assert lines["eks.cluster"].quantity_max == 1
    # Envoy Gateway gives the stack's one Gateway a LoadBalancer Service (per its EnvoyProxy).
    assert lines["elb.classic"].quantity_max == 1
    assert load_balancer_services(resources) == [("gateway-gateway", "Gateway")]


def test_aws_totals_equal_the_sum_of_their_lines() -> None:
    cost = cost_estimate(planned("aws"))
    assert cost is not None
    by_hand = sum((c.hourly(c.line.quantity_max, 730) or 0.0) for c in cost.lines)
    assert cost.total_hourly(True) == pytest.approx(by_hand)
    # The two things that dominate: 4 CPU + 2 GPU nodes at max, 1 CPU node at min.
    assert cost.total_hourly(True) - cost.total_hourly(False) == pytest.approx(
        3 * 0.384 + 2 * 0.526 + 5 * 200 * 0.08 / 730
    )


def test_estimate_json_and_text() -> None:
    result = runner.invoke(app, ["estimate", "-s", "aws", "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    chain = document["time"]["chain"]
    assert document["time"]["critical_path_seconds"] == pytest.approx(
        sum(step["seconds"] for step in chain)
    )
    assert all(step["source"] for step in chain)
    assert document["cost"]["per_month"]["min"] == pytest.approx(
        document["cost"]["per_hour"]["min"] * 730
    )
    assert document["cost"]["not_counted"]
    text = runner.invoke(app, ["estimate", "-s", "onprem"])
    assert text.exit_code == 0
    assert "creates no billed cloud resources" in text.output


def test_region_missing_from_the_price_table_is_said_and_left_out() -> None:
    from infra.ops import predeploy as commands

    planned_aws = planned("aws")
    resources = [
        {**r, "inputs": {**r["inputs"], "region": "eu-north-1"}}
        if r["type"] == "pulumi:providers:aws"
        else r
        for r in planned_aws.resources
    ]
    moved = commands.PlannedStack(
        "aws",
        "aws",
        {**planned_aws.snapshot, "resources": resources},
        planned_aws.components,
        planned_aws.ops,
    )
    cost = cost_estimate(moved)
    assert cost is not None and cost.region == "eu-north-1" and not cost.region_known
    assert cost.total_hourly(True) == 0
    assert "ec2.m5.2xlarge" in cost.unpriced
    from rich.console import Console

    console = Console(record=True, width=200)
    _, estimate = time_estimate(moved)
    commands.render_estimate(console, moved, estimate, cost)
    assert "region eu-north-1 is not in the price table" in console.export_text()


def test_unknown_stack_is_one_message() -> None:
    result = runner.invoke(app, ["estimate", "-s", "nope"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
