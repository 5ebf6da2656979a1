"""Image transforms of the dog-cat model, shared by training (``data.py``) and serving
(``handler.py``, which gets this file inside the ``.mar``), written with Pillow and torch only.

Training augments (random crop and flip); validation and serving do not, so the accuracy MLDE
reports is the accuracy users get. (The guides had the two swapped: validation was random and
training saw only centre crops.)
"""

from __future__ import annotations

import random

import torch
from PIL import Image

IMAGE_SIZE = 224
"""Side of the square the model sees, in pixels."""
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
"""ImageNet channel statistics: the usual normalisation for photos."""


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB image → normalised float tensor of shape (3, H, W)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    pixels = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
    tensor = pixels.view(height, width, 3).permute(2, 0, 1).float().div(255.0)
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (tensor - mean) / std


def eval_transform(image: Image.Image) -> torch.Tensor:
    """Deterministic: shorter side to 256/224 of ``IMAGE_SIZE``, then the centre square."""
    short = round(IMAGE_SIZE * 256 / 224)
    width, height = image.size
    scale = short / min(width, height)
    resized = image.convert("RGB").resize(
        (max(short, round(width * scale)), max(short, round(height * scale))),
        Image.Resampling.BILINEAR,
    )
    left = (resized.width - IMAGE_SIZE) // 2
    top = (resized.height - IMAGE_SIZE) // 2
    return to_tensor(resized.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE)))


def train_transform(image: Image.Image, rng: random.Random | None = None) -> torch.Tensor:
    """Augmenting: a random crop of 50-100% of the area (aspect 3:4 to 4:3), resized to
    ``IMAGE_SIZE``, flipped left-right half the time."""
    # Drawn from the global generator, so seeding `random` makes training repeatable.
    rng = rng if rng is not None else random.Random(random.getrandbits(64))
    rgb = image.convert("RGB")
    width, height = rgb.size
    area = width * height * rng.uniform(0.5, 1.0)
    aspect = rng.uniform(3 / 4, 4 / 3)
    crop_w = min(width, max(1, round((area * aspect) ** 0.5)))
    crop_h = min(height, max(1, round((area / aspect) ** 0.5)))
    left = rng.randint(0, width - crop_w)
    top = rng.randint(0, height - crop_h)
    crop = rgb.crop((left, top, left + crop_w, top + crop_h)).resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR
    )
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return to_tensor(crop)
