"""The dog-cat datasets: the images of one MLDM commit (or, in the local dry run, a folder),
labelled by ``pdk_assets.labels`` and split into training and validation sets.

The train container uploads ``pdk_assets`` with this folder, so the labelling rule is the
same code in the cluster, in the dry run and in the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import determined as det
import torch
from PIL import Image
from transforms import eval_transform, train_transform

from pdk_assets.labels import MIN_PER_CLASS, Scan, scan

logger = logging.getLogger(__name__)

Transform = Callable[[Image.Image], torch.Tensor]


class NotEnoughImages(det.InvalidHP):
    """Too few decodable images of some class. An ``InvalidHP``: Determined ends the trial
    early without a checkpoint (exit 0) and the train container reports the commit as too small,
    instead of the experiment failing with a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.args = (message,)


class ImageDataset(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """(image tensor, class index) pairs, decoded lazily with ``transform``."""

    def __init__(self, items: Sequence[tuple[Path, int]], transform: Transform) -> None:
        self.items = list(items)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.items[index]
        with Image.open(path) as image:
            return self.transform(image), label


def split(
    items: Sequence[tuple[Path, int]], validation_fraction: float
) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    """Deterministic, per-class split: every Nth image of each class is held out, and each
    class with at least two images keeps at least one in each set."""
    train: list[tuple[Path, int]] = []
    validation: list[tuple[Path, int]] = []
    for label in sorted({label for _, label in items}):
        of_class = [item for item in items if item[1] == label]
        held = max(1, round(len(of_class) * validation_fraction)) if len(of_class) > 1 else 0
        step = len(of_class) / held if held else 0
        chosen = {int(i * step) for i in range(held)}
        for index, item in enumerate(of_class):
            (validation if index in chosen else train).append(item)
    return train, validation


def build_datasets(
    root: Path,
    classes: Sequence[str],
    validation_fraction: float,
    only: set[str] | None = None,
    min_per_class: int = MIN_PER_CLASS,
) -> tuple[ImageDataset, ImageDataset, Scan]:
    """Training set (augmented) and validation set (not augmented) of the images in ``root``.
    Raises ``NotEnoughImages`` when a class has fewer than ``min_per_class`` decodable images
    (the train container checked names only)."""
    found = scan(root, classes, only=only)
    logger.info("data: %s", found.summary(classes))
    shortfall = found.shortfall(classes, min_per_class)
    if shortfall is not None:
        raise NotEnoughImages(
            f"{root}: training {shortfall}. Name files <class>.<anything> or put them in "
            f"folders named after a class, with class one of {list(classes)}."
        )
    train_items, validation_items = split(found.items, validation_fraction)
    return (
        ImageDataset(train_items, train_transform),
        ImageDataset(validation_items, eval_transform),
        found,
    )
