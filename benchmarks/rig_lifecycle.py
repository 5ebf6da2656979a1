"""The rig's figures: build time (warm, and cold with --cold), and the `local` stack's real
`pulumi up` and `pulumi destroy` against the rig, with the up's critical path compared with
`pdk estimate -s local`'s prediction for the same graph.

Each run is `pulumi up` then `pulumi destroy` of a fresh stack; the up writes the engine's event
log, from which each resource's time (its first event to its outputs) is read, and the critical
path is taken through the plan's graph (`infra.ops.graph`) with those times. The rig simulates
kubelets (kwok), so pods are Ready as soon as they are scheduled: the measured path is the
engine's, the API server's and the controllers' share of a real deploy, not image pulls or
container start-up. Prints medians and ratios.

Usage: python benchmarks/rig_lifecycle.py [--runs N] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.ops.graph import critical_path  # noqa: E402
from infra.ops.predeploy import plan_stack, time_estimate  # noqa: E402
from tests.rig import cluster, session  # noqa: E402
from tests.rig.build import BIN, RIG  # noqa: E402
from tests.rig.project import ensure_stack, pulumi, workspace  # noqa: E402

STACK = "local"


def build_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tests.rig.build"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def resource_seconds(event_log: Path) -> dict[str, float]:
    """Logical name -> seconds from the resource's first step event to its outputs event."""
    began: dict[str, float] = {}
    ended: dict[str, float] = {}
    for line in event_log.read_text().splitlines():
        event = json.loads(line)
        stamp = float(event.get("timestamp", 0))
        for kind, table in (("resourcePreEvent", began), ("resOutputsEvent", ended)):
            if kind in event:
                urn = event[kind]["metadata"]["urn"]
                table.setdefault(urn.rsplit("::", 1)[-1], stamp)
    return {name: ended[name] - began[name] for name in ended if name in began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="wipe the build cache first")
    args = parser.parse_args()
    if args.cold:
        shutil.rmtree(RIG / "go" / "cache", ignore_errors=True)
        shutil.rmtree(BIN, ignore_errors=True)
        print(f"rig build, cold: {build_seconds():.0f} s")
    print(f"rig build, warm: {build_seconds():.1f} s")
    reason = session.unavailable()
    if reason:
        sys.exit(f"rig unavailable: {reason}")
    # `--event-log` is one of the CLI's debug commands (pkg/cmd/pulumi/operations/up.go).
    os.environ["PULUMI_DEBUG_COMMANDS"] = "true"
    planned = plan_stack(STACK)
    graph, estimate = time_estimate(planned)
    ups: list[float] = []
    downs: list[float] = []
    paths: list[float] = []
    created: list[int] = []
    work = workspace(STACK)
    for run in range(args.runs):
        ensure_stack(work, STACK)
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "events.jsonl"
            up = pulumi(
                work, "up", "--yes", "--skip-preview", "--stack", STACK, "--event-log", str(log)
            ).check()
            measured = resource_seconds(log)
        path = critical_path(graph, lambda node, m=measured: m.get(node.name, 0.0))
        down = pulumi(work, "destroy", "--yes", "--skip-preview", "--stack", STACK).check()
        ups.append(up.seconds)
        downs.append(down.seconds)
        paths.append(path.total)
        created.append(len(measured))
        print(
            f"run {run + 1}: up {up.seconds:.0f} s ({len(measured)} resources), critical path "
            f"{path.total:.0f} s, destroy {down.seconds:.0f} s"
        )
    cluster.stop(quiet=True)
    path_median = statistics.median(paths)
    predicted = estimate.path.total
    print(f"pulumi up of {STACK}: median {statistics.median(ups):.0f} s, {created[-1]} resources")
    print(f"pulumi destroy: median {statistics.median(downs):.0f} s")
    print(
        f"critical path: measured median {path_median:.0f} s, `pdk estimate` predicts "
        f"{predicted:.0f} s, ratio measured/predicted {path_median / predicted:.2f}"
    )


if __name__ == "__main__":
    main()
