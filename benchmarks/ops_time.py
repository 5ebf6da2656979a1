"""Times `pdk estimate` and `pdk graph` against `pdk plan`, per stack, as whole processes.

Both plan the stack under the mock engine first, so their cost is the plan's plus the graph
work (critical path, tables, and for `graph` Graphviz's layout). Target: each within 1.5x of
`pdk plan`'s median wall time for the same stack. Prints medians and ratios.

Usage: python benchmarks/ops_time.py [--runs N] [--stacks a,b]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.plan.stackfiles import known_stacks  # noqa: E402

TARGET_RATIO = 1.5


def wall(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "infra.cli", *args], cwd=ROOT, capture_output=True, check=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", default=",".join(known_stacks()))
    args = parser.parse_args()
    print(f"{'stack':<8} {'plan':>7} {'estimate':>9} {'ratio':>6} {'graph':>7} {'ratio':>6}  ok")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for stack in args.stacks.split(","):
            commands = {
                "plan": ["plan", "-s", stack, "--json"],
                "estimate": ["estimate", "-s", stack, "--json"],
                "graph": ["graph", "-s", stack, "-o", str(Path(folder) / f"{stack}.svg")],
            }
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                # Interleaved, so a busy machine slows all three alike.
                for name, command in commands.items():
                    samples[name].append(wall(command))
            median = {name: statistics.median(values) for name, values in samples.items()}
            estimate_ratio = median["estimate"] / median["plan"]
            graph_ratio = median["graph"] / median["plan"]
            worst = max(worst, estimate_ratio, graph_ratio)
            ok = "yes" if max(estimate_ratio, graph_ratio) <= TARGET_RATIO else "NO"
            print(
                f"{stack:<8} {median['plan']:>6.2f}s {median['estimate']:>8.2f}s "
                f"{estimate_ratio:>6.2f} {median['graph']:>6.2f}s {graph_ratio:>6.2f}  {ok}"
            )
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO}); medians of {args.runs} runs")


if __name__ == "__main__":
    main()
