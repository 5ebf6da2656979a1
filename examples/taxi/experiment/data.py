"""The taxi datasets: the trip records of one MLDM commit (or, in the local dry run, a
folder), cleaned, turned into features and split into training and validation sets.

Files: CSV or Parquet in NYC TLC's yellow-taxi schema (``pdk_assets.tables`` finds them; hidden
and other files are skipped). A file without the columns the model reads is rejected with a
message naming them, and the others are used. Rows that cannot be trips (missing values,
non-positive durations, coordinates outside the city...) are dropped and counted by reason;
they never stop the trial. Fewer usable trips than ``data.min_rows`` end the trial early
without a checkpoint (``NotEnoughTrips``, a ``det.InvalidHP``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import determined as det
import torch
from features import COLUMN_GROUPS, BadTrip, duration_s, features

from pdk_assets.tables import SchemaError, table_files
from pdk_assets.tables import read_columns as read_table_columns

logger = logging.getLogger(__name__)


class NotEnoughTrips(det.InvalidHP):
    """Too few usable trips: Determined ends the trial early without a checkpoint (exit 0)
    and the train container reports the commit as too small."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.args = (message,)


@dataclass
class Trips:
    """Usable trips as tensors, and what was dropped."""

    features: torch.Tensor
    """``[N, features.WIDTH]`` floats."""
    seconds: torch.Tensor
    """``[N]`` durations."""
    files: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    """Reason → rows dropped for it."""
    rejected: dict[str, str] = field(default_factory=dict)
    """File name → why it was rejected."""
    skipped_files: int = 0

    def summary(self) -> str:
        text = f"{len(self.seconds)} usable trips from {self.files} files"
        if self.dropped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.dropped.items()))
            text += f"; dropped {sum(self.dropped.values())} rows ({reasons})"
        if self.rejected:
            text += (
                f"; rejected {len(self.rejected)} files (" + "; ".join(self.rejected.values()) + ")"
            )
        if self.skipped_files:
            text += f"; skipped {self.skipped_files} other files"
        return text


def _rows(columns: Mapping[str, list[Any]]) -> Iterator[dict[str, Any]]:
    names = list(columns)
    for values in zip(*(columns[name] for name in names), strict=True):
        yield dict(zip(names, values, strict=True))


def load_trips(root: Path, only: set[str] | None = None) -> Trips:
    """Every usable trip of the data files under ``root``."""
    found = table_files(root, only=only)
    rows: list[list[float]] = []
    targets: list[float] = []
    dropped: Counter[str] = Counter()
    rejected: dict[str, str] = {}
    for path in found.files:
        try:
            columns = read_table_columns(path, COLUMN_GROUPS)
        except SchemaError as error:
            rejected[path.name] = str(error)
            logger.warning("rejected %s", error)
            continue
        for row in _rows(columns):
            try:
                target = duration_s(row)
                vector = features(row)
            except BadTrip as bad:
                dropped[bad.reason] += 1
                continue
            rows.append(vector)
            targets.append(target)
    width = len(rows[0]) if rows else 13
    return Trips(
        features=torch.tensor(rows, dtype=torch.float32).reshape(-1, width),
        seconds=torch.tensor(targets, dtype=torch.float32),
        files=len(found.files) - len(rejected),
        dropped=dropped,
        rejected=rejected,
        skipped_files=sum(found.skipped.values()),
    )


def split(trips: Trips, validation_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, validation): every Nth trip is held out, deterministically."""
    count = len(trips.seconds)
    step = max(2, round(1 / validation_fraction)) if validation_fraction > 0 else count + 1
    index = torch.arange(count)
    held = index % step == step - 1
    return index[~held], index[held]


def build_datasets(
    root: Path, validation_fraction: float, min_rows: int, only: set[str] | None = None
) -> tuple[torch.utils.data.TensorDataset, torch.utils.data.TensorDataset, Trips]:
    """(training set, validation set, the trips) of ``root``; raises ``NotEnoughTrips``."""
    trips = load_trips(root, only)
    logger.info("data: %s", trips.summary())
    if len(trips.seconds) < min_rows:
        raise NotEnoughTrips(
            f"{root}: training needs at least {min_rows} usable trips, found {trips.summary()}. "
            "Commit CSV or Parquet files in the TLC yellow-taxi schema."
        )
    train, validation = split(trips, validation_fraction)
    return (
        torch.utils.data.TensorDataset(trips.features[train], trips.seconds[train]),
        torch.utils.data.TensorDataset(trips.features[validation], trips.seconds[validation]),
        trips,
    )
