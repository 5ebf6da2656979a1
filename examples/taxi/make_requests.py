"""Turns TLC trip-record files into KServe v1 request files for the taxi model.

    python examples/taxi/make_requests.py yellow_tripdata_2024-01.parquet --trips 20 --out requests/

Each FILE (CSV or Parquet in the TLC yellow-taxi schema) becomes ``requests/<name>.json``
holding ``{"instances": [...]}`` with the first ``--trips`` usable trips, without their
drop-off times and fares, and prints the true durations beside the file; send one with
``curl -H "Host: taxi.models.example.com" -d @requests/yellow_tripdata_2024-01.json
http://<ingress>/v1/models/taxi-travel-time:predict`` (answer ``{"predictions": [seconds, ...]}``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

EXPERIMENT = Path(__file__).resolve().parent / "experiment"
sys.path.insert(0, str(EXPERIMENT))

from features import (  # noqa: E402 (the experiment folder goes on the path first)
    COLUMN_GROUPS,
    COORDINATES,
    DISTANCE,
    PASSENGERS,
    PICKUP,
    ZONES,
    BadTrip,
    duration_s,
    features,
)

from pdk_assets.tables import SchemaError, read_columns  # noqa: E402


def _plain(value: object) -> object:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


def trips_of(path: Path, count: int) -> tuple[list[dict[str, object]], list[float]]:
    """The first ``count`` usable trips of a file as request instances, and their durations."""
    columns = read_columns(path, COLUMN_GROUPS)
    keep = [PICKUP, PASSENGERS, DISTANCE, *ZONES, *COORDINATES]
    instances, seconds = [], []
    for values in zip(*columns.values(), strict=True):
        row = dict(zip(columns, values, strict=True))
        try:
            target = duration_s(row)
            features(row)
        except BadTrip:
            continue
        instances.append({k: _plain(row[k]) for k in keep if row.get(k) not in (None, "")})
        seconds.append(target)
        if len(instances) == count:
            break
    return instances, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="TLC CSV or Parquet files")
    parser.add_argument("--trips", type=int, default=10, help="trips per request (default 10)")
    parser.add_argument("--out", type=Path, default=Path("requests"), help="output folder")
    arguments = parser.parse_args(argv)
    arguments.out.mkdir(parents=True, exist_ok=True)
    for path in arguments.files:
        if not path.is_file():
            parser.error(f"no such file: {path}")
        try:
            instances, seconds = trips_of(path, arguments.trips)
        except SchemaError as error:
            parser.error(str(error))
        if not instances:
            parser.error(f"{path.name}: no usable trips")
        name = path.name.removesuffix(".gz").rsplit(".", 1)[0]
        target = arguments.out / f"{name}.json"
        target.write_text(json.dumps({"instances": instances}))
        print(f"{target}  (true durations, s: {', '.join(f'{s:.0f}' for s in seconds)})")


if __name__ == "__main__":
    main()
