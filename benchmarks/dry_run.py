"""Wall time of each example's local dry run (median of a few runs, with its stages) and
TorchServe latency (median, p99) of each served model on this machine's CPU, through the
generated config.properties and the KServe v1 envelope.

    .venv/bin/python benchmarks/dry_run.py [--runs 3] [--requests 300] [--example taxi]

Requests: dog-cat, one 224x224 JPEG; taxi, one trip. Both batch 1, 1 worker. Ratios are taxi
over dog-cat.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from typing import Any

from rich.console import Console

from pdk_assets.dryrun import DryRunResult, dry_run
from pdk_assets.envelope import request_body
from pdk_assets.local import LocalTorchServe
from pdk_assets.manifest import EXAMPLES_DIR, ExampleManifest, load_examples, load_manifest
from pdk_assets.samples import load_samples
from pdk_assets.synthetic import class_image


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _body(manifest: ExampleManifest) -> tuple[bytes, str]:
    """One typical request of the example, and what it is."""
    if manifest.data.kind == "images":
        return json.dumps(request_body([class_image(1, size=224, seed=7)])).encode(), (
            "one 224x224 JPEG"
        )
    instances, _ = load_samples(manifest).held_out(1, seed=7)
    return json.dumps({"instances": instances}).encode(), "one trip"


def measure(manifest: ExampleManifest, runs: int, requests: int) -> dict[str, Any]:
    body, what = _body(manifest)
    latencies: list[float] = []

    def send(served: LocalTorchServe, result: DryRunResult) -> None:
        name = manifest.serving.inference_service
        for _ in range(10):  # warm-up
            served.predict("models", name, body)
        for _ in range(requests):
            started = time.perf_counter()
            status, answer = served.predict("models", name, body)
            latencies.append(time.perf_counter() - started)
            assert status == 200, answer

    walls: list[float] = []
    stages: list[dict[str, float]] = []
    for _ in range(runs):
        started = time.perf_counter()
        result = dry_run(manifest, console=Console(file=io.StringIO()))
        walls.append(time.perf_counter() - started)
        stages.append(result.timings)
    # Latency on one more run, so the timed dry runs above do not include the requests.
    dry_run(manifest, console=Console(file=io.StringIO()), after_ready=send)
    return {
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
            "request": f"{what}, batch 1, 1 worker, KServe v1 envelope",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="dry runs to time per example")
    parser.add_argument("--requests", type=int, default=300, help="requests for latency")
    parser.add_argument("--example", action="append", help="only these examples (repeatable)")
    arguments = parser.parse_args()
    manifests = (
        [load_manifest(EXAMPLES_DIR / name) for name in arguments.example]
        if arguments.example
        else load_examples()
    )
    report: dict[str, Any] = {
        manifest.name: measure(manifest, arguments.runs, arguments.requests)
        for manifest in manifests
    }
    if {"dog-cat", "taxi"} <= set(report):
        dog, taxi = report["dog-cat"], report["taxi"]
        report["ratios_taxi_over_dog_cat"] = {
            "dry_run_wall": round(
                taxi["dry_run_wall_s"]["median"] / dog["dry_run_wall_s"]["median"], 2
            ),
            "latency_median": round(
                taxi["torchserve_latency_ms"]["median"] / dog["torchserve_latency_ms"]["median"],
                2,
            ),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
