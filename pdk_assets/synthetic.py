"""A tiny generated image set, so the dry run and the tests need no download.

Each class gets its own colour and stripe direction, so a few training batches already separate
them. Files are named by the labelling rule (``dog.0.jpg``), inside folders named to fool the
guides' rule (``cats/dog.0.jpg`` is a dog), next to a ``.DS_Store`` and a truncated JPEG that
the data scan must skip.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

_PALETTE = ((200, 120, 40), (60, 90, 200), (60, 170, 80), (170, 60, 160))


def class_image(index: int, size: int = 96, seed: int = 0) -> bytes:
    """A JPEG of class ``index``: a colour and a stripe direction, with noise."""
    import io

    from PIL import Image, ImageDraw

    rng = random.Random(seed * 1000 + index)
    base = _PALETTE[index % len(_PALETTE)]
    colour = tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in base)
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    stripe = rng.randint(6, 12)
    for offset in range(0, size, stripe * 2):
        box = (
            (offset, 0, offset + stripe, size) if index % 2 else (0, offset, size, offset + stripe)
        )
        draw.rectangle(box, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_dataset(root: Path, classes: Sequence[str], per_class: int = 8) -> Path:
    """Writes ``per_class`` images per class plus two files the scan must skip; returns
    ``root``. Images of class ``c`` go into the folder of the *other* class."""
    root.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(classes):
        folder = root / f"{classes[(index + 1) % len(classes)]}s"
        folder.mkdir(exist_ok=True)
        for number in range(per_class):
            (folder / f"{name}.{number}.jpg").write_bytes(class_image(index, seed=number))
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(64))
    truncated = class_image(0, seed=99)
    (root / f"{classes[0]}.corrupt.jpg").write_bytes(truncated[: len(truncated) // 3])
    return root


def request_images(root: Path, classes: Sequence[str], per_class: int = 2) -> list[Path]:
    """Fresh images (seeds the training set did not use) to send to the served model."""
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, name in enumerate(classes):
        for number in range(per_class):
            path = root / f"{name}.request{number}.jpg"
            path.write_bytes(class_image(index, seed=500 + number))
            paths.append(path)
    return paths
