"""The dog-cat model and its MLDE trial.

``ResNet`` is a small ResNet-style network (basic residual blocks, global average pooling)
defined here because no pretrained weights are downloaded: the guides fine-tuned torchvision's
ResNet-50, which PyPI's torchvision cannot import beside this torch build. Its depth and width
are hyperparameters in ``const.yaml``. The network is TorchScript-compatible, so deploy exports
it with ``torch.jit.script`` and serving needs no model code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch
from data import build_datasets
from determined import pytorch
from torch import nn

from pdk_assets.trial import download_commit

BLOCKS_PER_STAGE = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
"""Residual blocks in each of the four stages, by network depth."""


class BasicBlock(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride, bias=False),
                nn.BatchNorm2d(channels_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, num_classes: int, depth: int = 18, width: int = 32) -> None:
        super().__init__()
        if depth not in BLOCKS_PER_STAGE:
            raise ValueError(f"depth {depth} is not one of {sorted(BLOCKS_PER_STAGE)}")
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 7, 2, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        layers: list[nn.Module] = []
        channels = width
        for stage, blocks in enumerate(BLOCKS_PER_STAGE[depth]):
            out = width * 2**stage
            for block in range(blocks):
                layers.append(BasicBlock(channels, out, 2 if stage > 0 and block == 0 else 1))
                channels = out
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.stages(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(features, 1), 1))


class DogCatTrial(pytorch.PyTorchTrial):
    """Trains ``ResNet`` on the labelled images of ``data.local_dir`` or the MLDM commit in
    ``data.pachyderm``; reports ``accuracy`` (the searcher metric) on the validation set."""

    def __init__(self, context: pytorch.PyTorchTrialContext) -> None:
        self.context = context
        data: dict[str, Any] = context.get_data_config()
        self.classes: list[str] = list(data["labels"])
        model = ResNet(
            len(self.classes),
            depth=int(context.get_hparam("depth")),
            width=int(context.get_hparam("width")),
        )
        self.model = context.wrap_model(model)
        self.optimizer = context.wrap_optimizer(
            torch.optim.SGD(
                self.model.parameters(),
                lr=float(context.get_hparam("learning_rate")),
                momentum=float(context.get_hparam("momentum")),
                nesterov=bool(context.get_hparam("nesterov")),
                weight_decay=float(context.get_hparam("weight_decay")),
            )
        )
        self.loss = nn.CrossEntropyLoss()
        self._data = data
        self._datasets: tuple[Any, Any] | None = None

    def load_data(self) -> tuple[Any, Any]:
        """Reads (or downloads) and labels the data once; raises ``NotEnoughImages`` (an
        ``InvalidHP``) when a class has too few decodable images."""
        if self._datasets is None:
            only = None
            if self._data.get("local_dir"):
                root = Path(self._data["local_dir"])
            else:
                root = Path(tempfile.mkdtemp(prefix="mldm-commit-"))
                only = download_commit(self._data["pachyderm"], root)
            train, validation, _ = build_datasets(
                root,
                self.classes,
                float(self._data.get("validation_fraction", 0.2)),
                only,
                int(self._data.get("min_per_class", 2)),
            )
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
        images, labels = batch
        output = self.model(images)
        loss = self.loss(output, labels)
        self.context.backward(loss)
        self.context.step_optimizer(self.optimizer)
        accuracy = (output.argmax(1) == labels).float().mean()
        return {"loss": loss, "train_accuracy": accuracy}

    def evaluate_batch(self, batch: Any) -> dict[str, Any]:
        images, labels = batch
        output = self.model(images)
        return {
            "validation_loss": self.loss(output, labels),
            "accuracy": (output.argmax(1) == labels).float().mean(),
        }
