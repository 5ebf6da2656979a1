"""The taxi example's own code: the TLC loader (column check, bad rows dropped and counted,
CSV and Parquet), the shared trip features, the trial's early exit on too few trips, the
network's export, and the handler's answers. The whole flow runs in tests/test_dry_run.py."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from pdk_assets.manifest import EXAMPLES_DIR, load_manifest
from pdk_assets.samples import load_samples
from pdk_assets.tables import SchemaError, read_columns, table_files

MANIFEST = load_manifest(EXAMPLES_DIR / "taxi")
SAMPLES = load_samples(MANIFEST)


@pytest.fixture(scope="module")
def modules() -> Iterator[dict[str, ModuleType]]:
    """The experiment's and handler's modules, imported as MLDE and TorchServe import them."""
    names = ("features", "data", "model_def", "handler_base", "handler")
    paths = [
        str(MANIFEST.experiment_dir),
        str(MANIFEST.folder),
        str(EXAMPLES_DIR.parent / "pdk_assets"),
    ]
    sys.path[:0] = paths
    try:
        yield {name: importlib.import_module(name) for name in names}
    finally:
        del sys.path[: len(paths)]
        for name in names:
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def commit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data: Path = SAMPLES.write_data(tmp_path_factory.mktemp("taxi"))
    return data


def test_commit_files_by_name(commit: Path) -> None:
    found = table_files(commit)
    assert [p.name for p in found.files] == [
        "fhv_tripdata_2024-01.csv",
        "yellow_tripdata_2015-01.csv",
        "yellow_tripdata_2024-01.parquet",
    ]
    assert sum(found.skipped.values()) == 2  # the hidden checkpoint copy and README.txt


def test_a_file_without_the_tlc_columns_is_rejected_by_name(
    modules: dict[str, ModuleType], commit: Path
) -> None:
    features = modules["features"]
    with pytest.raises(SchemaError) as raised:
        read_columns(commit / "fhv_tripdata_2024-01.csv", features.COLUMN_GROUPS)
    message = str(raised.value)
    assert message.startswith("fhv_tripdata_2024-01.csv: lacks column(s)")
    assert "trip_distance" in message and "found: dispatching_base_num" in message
    trips = modules["data"].load_trips(commit)
    assert list(trips.rejected) == ["fhv_tripdata_2024-01.csv"]


def test_bad_rows_are_dropped_and_counted_csv_and_parquet_alike(
    modules: dict[str, ModuleType], commit: Path
) -> None:
    trips = modules["data"].load_trips(commit)
    bad = SAMPLES.BAD_ROWS
    # Zero coordinates only in the CSV; the other kinds in both files (the random picks of
    # different kinds may fall on the same row, which is then counted once).
    assert set(trips.dropped) == {"outside the city", "missing value", "non-positive duration"}
    assert 0 < trips.dropped["outside the city"] <= bad["zero coordinates"]
    assert (
        bad["missing passengers"] < trips.dropped["missing value"] <= 2 * bad["missing passengers"]
    )
    assert 0 < trips.dropped["non-positive duration"] <= 2 * bad["drop-off before pick-up"]
    assert len(trips.seconds) + sum(trips.dropped.values()) == 2 * SAMPLES.TRIPS_PER_FILE
    assert trips.features.shape == (len(trips.seconds), modules["features"].WIDTH)
    assert bool((trips.seconds > 0).all())


def test_too_few_trips_end_the_trial_early_not_with_a_crash(
    modules: dict[str, ModuleType], tmp_path: Path
) -> None:
    import determined as det

    trips = SAMPLES.synthetic_trips(5, seed=3)
    SAMPLES.write_trips_csv(tmp_path / "few.csv", trips, SAMPLES.COORDINATE_COLUMNS)
    with pytest.raises(det.InvalidHP) as raised:
        modules["data"].build_datasets(tmp_path, 0.2, min_rows=20)
    assert "needs at least 20 usable trips, found 5 usable trips" in str(raised.value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"trip_distance": None}, "missing value"),
        ({"trip_distance": "far"}, "not a number"),
        ({"trip_distance": -1.0}, "distance out of range"),
        ({"passenger_count": 12}, "passengers out of range"),
        ({"tpep_pickup_datetime": "yesterday"}, "not a date"),
        ({"pickup_longitude": 0.0, "pickup_latitude": 0.0}, "outside the city"),
    ],
)
def test_features_name_what_is_wrong(
    modules: dict[str, ModuleType], change: dict[str, Any], reason: str
) -> None:
    (trip,) = SAMPLES.synthetic_trips(1, seed=5)
    row = {**SAMPLES.request_instance(trip, zones=False), **change}
    with pytest.raises(modules["features"].BadTrip) as raised:
        modules["features"].features(row)
    assert raised.value.reason == reason


def test_zones_and_coordinates_and_aliases(modules: dict[str, ModuleType]) -> None:
    features = modules["features"]
    (trip,) = SAMPLES.synthetic_trips(1, seed=6)
    by_zone = features.features(SAMPLES.request_instance(trip, zones=True))
    by_point = features.features(SAMPLES.request_instance(trip, zones=False))
    assert by_zone[: features.NUMERIC - 5] == by_point[: features.NUMERIC - 5]
    assert by_zone[-2:] == [trip["PULocationID"], trip["DOLocationID"]]
    assert by_point[-3:] == [1.0, 0.0, 0.0]  # coordinates flag, no zones
    aliased = SAMPLES.request_instance(trip, zones=True)
    aliased["pickup_datetime"] = aliased.pop("tpep_pickup_datetime")
    assert features.features(aliased) == by_zone
    parquet_time = {**SAMPLES.request_instance(trip, zones=True)}
    parquet_time["tpep_pickup_datetime"] = trip["tpep_pickup_datetime"]
    assert isinstance(parquet_time["tpep_pickup_datetime"], datetime)
    assert features.features(parquet_time) == by_zone


def test_network_is_scriptable_and_predicts_log_seconds(modules: dict[str, ModuleType]) -> None:
    net = modules["model_def"].TravelTimeNet(hidden=16, zone_dim=4).eval()
    rows = torch.tensor(
        [modules["features"].features(SAMPLES.request_instance(t, zones=i % 2 == 0))
         for i, t in enumerate(SAMPLES.synthetic_trips(4, seed=8))]
    )  # fmt: skip
    scripted = torch.jit.script(net)
    assert torch.allclose(scripted(rows), net(rows))
    assert scripted(rows).shape == (4,)


def _handler(modules: dict[str, ModuleType]) -> Any:
    handler = modules["handler"].TaxiHandler()
    handler.model = modules["model_def"].TravelTimeNet().eval()
    handler.device = torch.device("cpu")
    handler.initialized = True
    handler.settings = {"max_request_bytes": 2**20}
    return handler


def test_handler_answers_seconds_per_trip_for_each_request(modules: dict[str, ModuleType]) -> None:
    handler = _handler(modules)
    instances, _ = SAMPLES.held_out(3, seed=21)
    batch = [
        {"body": {"instances": instances}},
        {"body": json.dumps({"instances": instances[:1]}).encode()},
    ]
    answers = handler.handle(batch, context=None)
    assert [len(a["predictions"]) for a in answers] == [3, 1]
    assert answers[0]["predictions"][0] == answers[1]["predictions"][0]
    assert all(isinstance(s, float) and s > 0 for s in answers[0]["predictions"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty request body"),
        (b"{not json", "not valid JSON"),
        ({"instances": []}, "non-empty list"),
        ({"instances": ["a trip"]}, "instance 0 is not an object"),
        ({"instances": [{"trip_distance": 1}]}, "instance 0: missing value"),
        ({"instances": [{"data": "x" * 2**20}]}, "at most 1 MiB per request"),
    ],
)
def test_handler_refuses_malformed_requests_with_400(
    modules: dict[str, ModuleType], body: Any, message: str
) -> None:
    from ts.utils.util import PredictionException

    with pytest.raises(PredictionException) as raised:
        _handler(modules).handle([{"body": body}], context=None)
    assert raised.value.error_code == 400
    assert message in raised.value.message
