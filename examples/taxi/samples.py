"""The taxi dry run's data and requests (``dry_run.samples`` in example.yaml), and the
synthetic trip set behind both.

The public TLC records cannot be downloaded here, so ``write_data`` writes trips in their
schema with a known relation: a trip takes ``60 + 170 * miles`` seconds (about 21 mph after a
minute at the kerb), 35% longer in weekday rush hours (7-10 and 16-19), with 8% noise. Two
files in the two schemas TLC has used (coordinates in CSV, as until mid-2016; taxi zones in
Parquet, as since), each with the bad rows real files hold, plus a file in another schema
(FHV records) that the loader must reject, a hidden copy and a note that it must skip.
``request_cases``: held-out trips from other seeds, with their true durations, and malformed
trips that must get HTTP 400.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pdk_assets.samples import RequestCase, json_request
from pdk_assets.tables import csv_text

COORDINATE_COLUMNS = [
    "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
    "trip_distance", "pickup_longitude", "pickup_latitude", "RateCodeID", "store_and_fwd_flag",
    "dropoff_longitude", "dropoff_latitude", "payment_type", "fare_amount", "extra", "mta_tax",
    "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
]  # fmt: skip
"""TLC yellow-taxi columns of 2015 (coordinates)."""
ZONE_COLUMNS = [
    "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
    "trip_distance", "RatecodeID", "store_and_fwd_flag", "PULocationID", "DOLocationID",
    "payment_type", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
    "improvement_surcharge", "total_amount", "congestion_surcharge", "Airport_fee",
]  # fmt: skip
"""TLC yellow-taxi columns since 2016-07 (taxi zones)."""
FHV_COLUMNS = [
    "dispatching_base_num", "pickup_datetime", "dropOff_datetime", "PUlocationID",
    "DOlocationID", "SR_Flag", "Affiliated_base_number",
]  # fmt: skip
"""TLC for-hire-vehicle records: no distance, no passengers; the loader must reject them."""

TRIPS_PER_FILE = 1500
BAD_ROWS = {"zero coordinates": 40, "missing passengers": 30, "drop-off before pick-up": 30}
"""Bad rows added to the coordinates file (the zones file gets the last two kinds)."""
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def true_duration_s(distance_mi: float, pickup: datetime) -> float:
    """The known relation, without noise."""
    rush = pickup.weekday() < 5 and (7 <= pickup.hour < 10 or 16 <= pickup.hour < 19)
    return (60 + 170 * distance_mi) * (1.35 if rush else 1.0)


def _zone(lon: float, lat: float) -> int:
    """A stand-in taxi zone: a 0.02-degree grid cell, numbered 1-263."""
    cell = int((lon + 74.3) / 0.02) * 31 + int((lat - 40.4) / 0.02)
    return 1 + cell % 263


def synthetic_trips(
    count: int, seed: int, start: datetime = datetime(2024, 1, 1)
) -> list[dict[str, Any]]:
    """``count`` clean trips with both coordinates and zones, pick-ups over 31 days."""
    rng = random.Random(seed)
    trips = []
    for _ in range(count):
        pickup = start + timedelta(seconds=rng.randrange(31 * 24 * 3600))
        distance = round(min(25.0, max(0.2, rng.lognormvariate(0.8, 0.7))), 2)
        lon1, lat1 = rng.uniform(-74.02, -73.93), rng.uniform(40.70, 40.80)
        angle = rng.uniform(0, 2 * math.pi)
        reach = distance * 0.7 / 53  # miles to degrees, with Manhattan's detours
        lon2 = min(-73.70, max(-74.25, lon1 + reach * math.cos(angle)))
        lat2 = min(40.90, max(40.50, lat1 + reach * math.sin(angle)))
        seconds = true_duration_s(distance, pickup) * math.exp(rng.gauss(0, 0.08))
        fare = round(3.0 + 2.5 * distance + 0.5 * seconds / 60, 2)
        trips.append(
            {
                "VendorID": rng.choice([1, 2]),
                "tpep_pickup_datetime": pickup,
                "tpep_dropoff_datetime": pickup + timedelta(seconds=round(seconds)),
                "passenger_count": rng.choice([1, 1, 1, 2, 2, 3, 5]),
                "trip_distance": distance,
                "pickup_longitude": round(lon1, 6),
                "pickup_latitude": round(lat1, 6),
                "dropoff_longitude": round(lon2, 6),
                "dropoff_latitude": round(lat2, 6),
                "PULocationID": _zone(lon1, lat1),
                "DOLocationID": _zone(lon2, lat2),
                "RateCodeID": 1,
                "RatecodeID": 1,
                "store_and_fwd_flag": "N",
                "payment_type": rng.choice([1, 2]),
                "fare_amount": fare,
                "extra": 0.5,
                "mta_tax": 0.5,
                "tip_amount": round(fare * 0.15, 2),
                "tolls_amount": 0.0,
                "improvement_surcharge": 0.3,
                "total_amount": round(fare * 1.15 + 1.3, 2),
                "congestion_surcharge": 2.5,
                "Airport_fee": 0.0,
            }
        )
    return trips


def _spoil(trips: list[dict[str, Any]], kinds: dict[str, int], seed: int) -> None:
    rng = random.Random(seed)
    for kind, count in kinds.items():
        for trip in rng.sample(trips, count):
            if kind == "zero coordinates":
                trip["pickup_longitude"] = trip["pickup_latitude"] = 0.0
            elif kind == "missing passengers":
                trip["passenger_count"] = None
            else:
                trip["tpep_dropoff_datetime"] = trip["tpep_pickup_datetime"] - timedelta(
                    seconds=300
                )


def write_trips_csv(path: Path, trips: list[dict[str, Any]], columns: list[str]) -> Path:
    def cell(value: Any) -> Any:
        return value.strftime(TIME_FORMAT) if isinstance(value, datetime) else value

    rows = [[cell(trip.get(column)) for column in columns] for trip in trips]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(columns, rows))
    return path


def write_trips_parquet(path: Path, trips: list[dict[str, Any]], columns: list[str]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as parquet

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({column: [trip.get(column) for trip in trips] for column in columns})
    parquet.write_table(table, path)
    return path


def write_data(root: Path) -> Path:
    data = root / "data"
    old = synthetic_trips(TRIPS_PER_FILE, seed=1, start=datetime(2015, 1, 1))
    _spoil(old, BAD_ROWS, seed=11)
    write_trips_csv(data / "yellow_tripdata_2015-01.csv", old, COORDINATE_COLUMNS)
    new = synthetic_trips(TRIPS_PER_FILE, seed=2)
    _spoil(new, {k: v for k, v in BAD_ROWS.items() if k != "zero coordinates"}, seed=12)
    write_trips_parquet(data / "yellow_tripdata_2024-01.parquet", new, ZONE_COLUMNS)
    fhv = [
        {**trip, "dispatching_base_num": "B00001", "pickup_datetime": trip["tpep_pickup_datetime"]}
        for trip in new[:20]
    ]
    write_trips_csv(data / "fhv_tripdata_2024-01.csv", fhv, FHV_COLUMNS)
    write_trips_csv(
        data / ".ipynb_checkpoints" / "yellow_tripdata_2015-01-checkpoint.csv",
        old[:50],
        COORDINATE_COLUMNS,
    )
    (data / "README.txt").write_text("NYC TLC trip records, January 2015 and January 2024\n")
    return data


def request_instance(trip: dict[str, Any], *, zones: bool) -> dict[str, Any]:
    """What a client sends for one trip: pick-up time, passengers, distance and either zones
    or coordinates; no drop-off time, no fares."""
    instance: dict[str, Any] = {
        "tpep_pickup_datetime": trip["tpep_pickup_datetime"].strftime(TIME_FORMAT),
        "passenger_count": trip["passenger_count"],
        "trip_distance": trip["trip_distance"],
    }
    names = (
        ("PULocationID", "DOLocationID")
        if zones
        else ("pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude")
    )
    instance.update({name: trip[name] for name in names})
    return instance


def held_out(count: int = 200, seed: int = 99) -> tuple[list[dict[str, Any]], list[float]]:
    """(instances, true durations in seconds) of trips training never saw; half by zones,
    half by coordinates."""
    trips = synthetic_trips(count, seed)
    instances = [request_instance(trip, zones=i % 2 == 0) for i, trip in enumerate(trips)]
    seconds = [
        (trip["tpep_dropoff_datetime"] - trip["tpep_pickup_datetime"]).total_seconds()
        for trip in trips
    ]
    return instances, seconds


HELD_OUT = "held-out trips"


def request_cases(root: Path) -> list[RequestCase]:
    instances, seconds = held_out()
    (one,), (one_seconds,) = held_out(1, seed=7)
    outside = {**instances[1], "dropoff_longitude": 0.0, "dropoff_latitude": 0.0}
    missing = {k: v for k, v in instances[0].items() if k != "trip_distance"}
    return [
        json_request("one trip (zones)", [one], round(one_seconds)),
        json_request(f"{HELD_OUT} ({len(instances)})", instances, round(seconds[0])),
        RequestCase(
            "drop-off at (0, 0)",
            json.dumps({"instances": [outside]}).encode(),
            None,
            400,
        ),
        RequestCase("no trip_distance", json.dumps({"instances": [missing]}).encode(), None, 400),
    ]
