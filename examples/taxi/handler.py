"""TorchServe handler of the taxi travel-time model, for KServe's protocol v1.

``{"instances": [{"tpep_pickup_datetime": "2024-01-15 08:10:00", "passenger_count": 1,
"trip_distance": 2.3, "PULocationID": 161, "DOLocationID": 236}, ...]}`` is answered
``{"predictions": [742.5, ...]}``: seconds per trip. Trips take TLC's column names (a row of a
trip-record file without its drop-off time and fares), with zones or with coordinates
(``pickup_longitude`` ... ``dropoff_latitude``); ``pickup_datetime`` may stand for
``tpep_pickup_datetime``. The envelope, the request size limit and the 400 answers are
``handler_base`` (``pdk_assets/handler_base.py``, packed into the ``.mar``); a trip that cannot
be one (a missing field, a point outside the city) fails the request with 400 naming it.
"""

from __future__ import annotations

from typing import Any

import torch
from features import BadTrip, features  # packed into the .mar from experiment/features.py
from handler_base import KServeV1Handler, RequestError  # packed from pdk_assets/


class TaxiHandler(KServeV1Handler):
    """Trips in, seconds out."""

    def preprocess(self, data: list[Any]) -> torch.Tensor:
        rows = []
        for index, instance in enumerate(data):
            if not isinstance(instance, dict):
                raise RequestError(
                    f"instance {index} is not an object; send trips as "
                    '{"instances": [{"tpep_pickup_datetime": ..., "trip_distance": ...}]}'
                )
            try:
                rows.append(features(instance))
            except BadTrip as error:
                raise RequestError(f"instance {index}: {error}") from None
        return torch.tensor(rows, dtype=torch.float32)

    def postprocess(self, data: torch.Tensor) -> list[float]:
        return [round(float(seconds), 1) for seconds in data.exp().tolist()]
