"""Trip features of the taxi model, shared by training (``data.py``) and serving
(``handler.py``, which gets this file inside the ``.mar``). Standard library only.

A trip is a row of NYC TLC's yellow-taxi trip records, by their column names: pickup time
(``tpep_pickup_datetime``), ``passenger_count``, ``trip_distance`` (miles), and where it starts
and ends, either as taxi zones (``PULocationID``/``DOLocationID``, files since July 2016) or as
coordinates (``pickup_longitude`` ... ``dropoff_latitude``, files before). Training also reads
``tpep_dropoff_datetime`` for the duration; serving does not need it.

``features`` turns one trip into ``WIDTH`` floats: the hour of day and day of week on circles,
log distance, passengers, coordinates around midtown (zeros when the trip has zones), a flag
for coordinates, and the two zone ids (0 when the trip has coordinates), which the model embeds.
It raises ``BadTrip`` (a ``ValueError``) naming the problem: the trial counts those rows by
reason and drops them, the handler answers them with HTTP 400.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

PICKUP = "tpep_pickup_datetime"
DROPOFF = "tpep_dropoff_datetime"
PASSENGERS = "passenger_count"
DISTANCE = "trip_distance"
ZONES = ("PULocationID", "DOLocationID")
COORDINATES = ("pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude")
ALIASES = {"pickup_datetime": PICKUP, "dropoff_datetime": DROPOFF}
"""Shorter names a request may use for the TLC columns."""

TRAIN_COLUMNS = (PICKUP, DROPOFF, PASSENGERS, DISTANCE)
"""Columns every training file needs, plus ``ZONES`` or ``COORDINATES``."""
COLUMN_GROUPS = ((*TRAIN_COLUMNS, *ZONES), (*TRAIN_COLUMNS, *COORDINATES))
"""A training file must hold all columns of one of these (``pdk_assets.tables``)."""

CITY_BOX = (-74.27, -73.68, 40.49, 40.92)
"""(west, east, south, north): New York City's five boroughs; coordinates outside are GPS
errors (TLC's older files hold many (0, 0) trips)."""
CENTER = (-73.97, 40.75)
"""Midtown Manhattan; coordinates are features as tenths of a degree from here."""
MAX_ZONE = 265
"""TLC taxi zones are 1-263, with 264 and 265 for unknown; 0 here means "no zone"."""
MAX_DURATION_S = 6 * 3600
"""Longer trips are meters left running, not travel times."""
MAX_DISTANCE_MI = 200.0
NUMERIC = 11
"""Numeric features before the two zone ids."""
WIDTH = NUMERIC + 2


class BadTrip(ValueError):
    """A row that cannot be a trip; ``reason`` is a short category for the counts."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _get(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None:
        for alias, column in ALIASES.items():
            if column == name and row.get(alias) is not None:
                value = row[alias]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadTrip("missing value", f"{name} is missing")
    return value


def _number(row: Mapping[str, Any], name: str) -> float:
    value = _get(row, name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadTrip("not a number", f"{name}={value!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise BadTrip("not a number", f"{name}={value!r} is not a number")
    return number


def timestamp(row: Mapping[str, Any], name: str) -> datetime:
    """A TLC time: a datetime (Parquet) or text such as ``2015-01-15 19:05:39`` (CSV, JSON)."""
    value = _get(row, name)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "")).replace(tzinfo=None)
    except ValueError:
        raise BadTrip(
            "not a date", f"{name}={value!r} is not a date-time (YYYY-MM-DD HH:MM:SS)"
        ) from None


def duration_s(row: Mapping[str, Any]) -> float:
    """The trip's duration in seconds, the training target."""
    seconds = (timestamp(row, DROPOFF) - timestamp(row, PICKUP)).total_seconds()
    if seconds <= 0:
        raise BadTrip("non-positive duration", f"drop-off is not after pick-up ({seconds:.0f}s)")
    if seconds > MAX_DURATION_S:
        raise BadTrip("duration over 6 hours", f"{seconds / 3600:.1f} hours")
    return seconds


def _has(row: Mapping[str, Any], names: tuple[str, ...]) -> bool:
    return all(row.get(name) not in (None, "") for name in names)


def features(row: Mapping[str, Any]) -> list[float]:
    """``WIDTH`` floats for one trip; raises ``BadTrip``."""
    when = timestamp(row, PICKUP)
    hour = (when.hour + when.minute / 60) / 24
    day = when.weekday() / 7
    distance = _number(row, DISTANCE)
    if not 0 < distance <= MAX_DISTANCE_MI:
        raise BadTrip("distance out of range", f"{DISTANCE}={distance} is not in (0, 200] miles")
    passengers = _number(row, PASSENGERS)
    if not 0 <= passengers <= 9:
        raise BadTrip("passengers out of range", f"{PASSENGERS}={passengers:g} is not in 0-9")
    numeric = [
        math.sin(2 * math.pi * hour),
        math.cos(2 * math.pi * hour),
        math.sin(2 * math.pi * day),
        math.cos(2 * math.pi * day),
        math.log1p(distance),
        passengers / 6,
    ]
    if _has(row, COORDINATES) or not _has(row, ZONES):
        lon1, lat1, lon2, lat2 = (_number(row, name) for name in COORDINATES)
        west, east, south, north = CITY_BOX
        for lon, lat, where in ((lon1, lat1, "pick-up"), (lon2, lat2, "drop-off")):
            if not (west <= lon <= east and south <= lat <= north):
                raise BadTrip(
                    "outside the city",
                    f"{where} ({lon:.4f}, {lat:.4f}) is outside New York City's box",
                )
        numeric += [
            (lon1 - CENTER[0]) * 10,
            (lat1 - CENTER[1]) * 10,
            (lon2 - CENTER[0]) * 10,
            (lat2 - CENTER[1]) * 10,
            1.0,
        ]
        zones = [0.0, 0.0]
    else:
        numeric += [0.0, 0.0, 0.0, 0.0, 0.0]
        zones = []
        for name in ZONES:
            zone = _number(row, name)
            if zone != int(zone) or not 1 <= zone <= MAX_ZONE:
                raise BadTrip("zone out of range", f"{name}={zone:g} is not a TLC zone (1-265)")
            zones.append(zone)
    return numeric + zones
