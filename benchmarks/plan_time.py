"""Times `pdk plan` for every stack as a whole process, several runs each.

Prints, per stack, the median wall time of the process and the medians of the two parts the
CLI measures itself: importing Pulumi, the providers and the program ("import"), and running
the program under the mock engine ("program"). The remainder is interpreter start-up, config
validation and printing. Target: under 5 s per stack on a 2-core machine.

With ``--against REF`` the same stacks are also planned by the program as it was at git REF
(extracted to a temporary folder), alternating run by run so both see the same machine load, and
each stack gets a ratio of medians (this tree / REF): the before/after check of a refactoring.

Usage: python benchmarks/plan_time.py [--runs N] [--against REF]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.plan.stackfiles import known_stacks  # noqa: E402

TARGET_SECONDS = 5.0
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp")
"""Each costs seconds to import; a stack must load only its own target's."""
_SDK_PROBE = f"""\
import sys
from infra.plan.engine import plan
plan(sys.argv[1])
print(",".join(m for m in {CLOUD_SDKS!r} if m in sys.modules) or "none")
"""


def cloud_sdks(stack: str) -> str:
    """The cloud SDKs planning ``stack`` imports."""
    result = subprocess.run(
        [sys.executable, "-c", _SDK_PROBE, stack],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def one_run(stack: str, root: Path = ROOT) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", "plan", "-s", stack, "--json", "--timings"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    lines = result.stderr.strip().splitlines()
    timing_lines = [line for line in lines if line.startswith('{"timings"')]
    for line in lines:
        if line not in timing_lines:
            print(f"  (stderr of a {stack} run: {line})")
    return wall, json.loads(timing_lines[-1])["timings"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", help="git ref to compare with, run by run")
    args = parser.parse_args()
    if args.against:
        compare(args.against, args.runs)
        return

    startup = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        startup.append(time.perf_counter() - started)
    print(f"interpreter start-up alone: median {statistics.median(startup):.3f} s")
    print(
        f"{'stack':<10} {'runs':>4} {'wall':>7} {'import':>7} {'program':>8} {'min':>6} "
        f"{'max':>6}  target        cloud SDKs imported"
    )
    worst = 0.0
    for stack in known_stacks():
        runs = [one_run(stack) for _ in range(args.runs)]
        walls = [wall for wall, _ in runs]
        wall = statistics.median(walls)
        worst = max(worst, wall)
        imports = statistics.median(t["import"] for _, t in runs)
        program = statistics.median(t["program"] for _, t in runs)
        verdict = "ok" if wall < TARGET_SECONDS else "OVER"
        print(
            f"{stack:<10} {args.runs:>4} {wall:>6.2f}s {imports:>6.2f}s {program:>7.2f}s "
            f"{min(walls):>5.2f}s {max(walls):>5.2f}s  {verdict} (< {TARGET_SECONDS:.0f} s)"
            f"  {cloud_sdks(stack)}"
        )
    print(f"slowest stack median: {worst:.2f} s = {worst / TARGET_SECONDS:.0%} of the target")


def compare(ref: str, runs: int) -> None:
    """Median wall, import and program time per stack, this tree against ``ref``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref], capture_output=True, check=True
    )
    with tempfile.TemporaryDirectory(prefix="pdk-bench-") as folder:
        with tempfile.TemporaryFile() as tar_file:
            tar_file.write(archive.stdout)
            tar_file.seek(0)
            with tarfile.open(fileobj=tar_file) as tar:
                tar.extractall(folder, filter="data")
        trees = {ref: Path(folder), "this tree": ROOT}
        print(f"{'stack':<10} {'tree':<12} {'wall':>7} {'import':>7} {'program':>8}  ratio")
        for stack in known_stacks():
            measured: dict[str, list[tuple[float, dict[str, float]]]] = {t: [] for t in trees}
            for _ in range(runs):
                for name, root in trees.items():
                    measured[name].append(one_run(stack, root))
            walls = {name: statistics.median(w for w, _ in m) for name, m in measured.items()}
            for name, m in measured.items():
                imports = statistics.median(t["import"] for _, t in m)
                program = statistics.median(t["program"] for _, t in m)
                print(
                    f"{stack:<10} {name[:12]:<12} {walls[name]:>6.2f}s {imports:>6.2f}s "
                    f"{program:>7.2f}s  {walls[name] / walls[ref]:.2f}"
                )


if __name__ == "__main__":
    main()
