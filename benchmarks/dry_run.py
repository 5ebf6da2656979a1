"""Wall time of the local dry run (median of a few runs) and TorchServe latency (median, p99)
of the dog-cat model on this machine's CPU, through the generated config.properties and the
KServe v1 envelope.

    .venv/bin/python benchmarks/dry_run.py [--runs 3] [--requests 300]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

from rich.console import Console

from pdk_assets.dryrun import DryRunResult, dry_run
from pdk_assets.envelope import request_body
from pdk_assets.local import LocalTorchServe
from pdk_assets.manifest import EXAMPLES_DIR, load_manifest
from pdk_assets.synthetic import class_image


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="dry runs to time")
    parser.add_argument("--requests", type=int, default=300, help="requests for latency")
    arguments = parser.parse_args()
    manifest = load_manifest(EXAMPLES_DIR / "dog-cat")
    body = json.dumps(request_body([class_image(1, size=224, seed=7)])).encode()
    latencies: list[float] = []

    def measure(served: LocalTorchServe, result: DryRunResult) -> None:
        for _ in range(10):  # warm-up
            served.predict("models", manifest.serving.inference_service, body)
        for _ in range(arguments.requests):
            started = time.perf_counter()
            status, _answer = served.predict("models", manifest.serving.inference_service, body)
            latencies.append(time.perf_counter() - started)
            assert status == 200, _answer

    walls: list[float] = []
    stages: list[dict[str, float]] = []
    for _ in range(arguments.runs):
        started = time.perf_counter()
        result = dry_run(manifest, console=Console(file=io.StringIO()))
        walls.append(time.perf_counter() - started)
        stages.append(result.timings)
    # Latency on one more run, so the timed dry runs above do not include the requests.
    dry_run(manifest, console=Console(file=io.StringIO()), after_ready=measure)

    report = {
        "dry_run_wall_s": {
            "median": round(statistics.median(walls), 2),
            "runs": [round(w, 2) for w in walls],
            "median_stage_s": {
                stage: round(statistics.median(t[stage] for t in stages), 2) for stage in stages[0]
            },
        },
        "torchserve_latency_ms": {
            "requests": len(latencies),
            "median": round(statistics.median(latencies) * 1000, 2),
            "p99": round(_percentile(latencies, 0.99) * 1000, 2),
            "image": "224x224 JPEG, batch 1, 1 worker, KServe v1 envelope",
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
