"""The taxi travel-time model and its MLDE trial.

``TravelTimeNet`` is a small MLP over the trip features (``features.py``) with an embedding
per TLC zone; it predicts the log of the duration in seconds, so a 5-minute and a 50-minute
trip weigh alike in the loss. TorchScript-compatible: deploy exports it with
``torch.jit.script`` and the handler needs no model code.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import torch
from data import build_datasets
from determined import pytorch
from features import MAX_ZONE, NUMERIC
from torch import nn

from pdk_assets.trial import download_commit


class TravelTimeNet(nn.Module):
    def __init__(self, hidden: int = 64, zone_dim: int = 8) -> None:
        super().__init__()
        self.zones = nn.Embedding(MAX_ZONE + 1, zone_dim)
        self.body = nn.Sequential(
            nn.Linear(NUMERIC + 2 * zone_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
        )
        self.head = nn.Linear(hidden, 1)
        self.numeric = NUMERIC  # an attribute: TorchScript does not read module globals

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, features.WIDTH]`` → ``[N]`` log seconds."""
        numeric = x[:, : self.numeric]
        pickup = self.zones(x[:, self.numeric].long())
        dropoff = self.zones(x[:, self.numeric + 1].long())
        hidden = self.body(torch.cat([numeric, pickup, dropoff], dim=1))
        return self.head(hidden).squeeze(1)


class TaxiTrial(pytorch.PyTorchTrial):
    """Trains ``TravelTimeNet`` on the trips of ``data.local_dir`` or the MLDM commit in
    ``data.pachyderm``; reports ``mae_seconds`` (the searcher metric) on the validation set,
    beside ``baseline_mae_seconds``, the error of predicting the training mean for every trip."""

    def __init__(self, context: pytorch.PyTorchTrialContext) -> None:
        self.context = context
        self._data: dict[str, Any] = context.get_data_config()
        self.model = context.wrap_model(
            TravelTimeNet(
                hidden=int(context.get_hparam("hidden")),
                zone_dim=int(context.get_hparam("zone_dim")),
            )
        )
        self.optimizer = context.wrap_optimizer(
            torch.optim.Adam(
                self.model.parameters(),
                lr=float(context.get_hparam("learning_rate")),
                weight_decay=float(context.get_hparam("weight_decay")),
            )
        )
        self._datasets: tuple[Any, Any] | None = None
        self.mean_seconds = 0.0

    def load_data(self) -> tuple[Any, Any]:
        """Reads (or downloads) and cleans the trips once; raises ``NotEnoughTrips`` (an
        ``InvalidHP``) when too few are usable."""
        if self._datasets is None:
            only = None
            if self._data.get("local_dir"):
                root = Path(self._data["local_dir"])
            else:
                root = Path(tempfile.mkdtemp(prefix="mldm-commit-"))
                only = download_commit(self._data["pachyderm"], root)
            train, validation, _ = build_datasets(
                root,
                float(self._data.get("validation_fraction", 0.2)),
                int(self._data.get("min_rows", 20)),
                only,
            )
            seconds = train.tensors[1]
            self.mean_seconds = float(seconds.mean())
            # Start from the mean log duration, so early batches learn the shape, not the level.
            with torch.no_grad():
                self.model.head.bias.fill_(float(seconds.log().mean()))
            self._datasets = (train, validation)
        return self._datasets

    def build_training_data_loader(self) -> pytorch.DataLoader:
        return pytorch.DataLoader(
            self.load_data()[0], batch_size=self.context.get_per_slot_batch_size(), shuffle=True
        )

    def build_validation_data_loader(self) -> pytorch.DataLoader:
        return pytorch.DataLoader(
            self.load_data()[1], batch_size=self.context.get_per_slot_batch_size()
        )

    def train_batch(self, batch: Any, epoch_idx: int, batch_idx: int) -> dict[str, Any]:
        trips, seconds = batch
        loss = nn.functional.mse_loss(self.model(trips), seconds.log())
        self.context.backward(loss)
        self.context.step_optimizer(self.optimizer)
        return {"loss": loss}

    def evaluate_batch(self, batch: Any) -> dict[str, Any]:
        trips, seconds = batch
        predicted = self.model(trips)
        baseline = torch.full_like(seconds, self.mean_seconds or math.nan)
        return {
            "validation_loss": nn.functional.mse_loss(predicted, seconds.log()),
            "mae_seconds": (predicted.exp() - seconds).abs().mean(),
            "baseline_mae_seconds": (baseline - seconds).abs().mean(),
        }
