"""TorchServe handler of the dog-cat model, for KServe's protocol v1.

KServe's TorchServe runtime unwraps ``{"instances": [{"data": "<base64 JPEG>"}, ...]}`` (the
``kserve`` service envelope) and hands this handler the instances; the answer is one class index
per instance, wrapped as ``{"predictions": [0, 1, ...]}`` (0 = dog, 1 = cat, the order of
``classes`` in example.yaml). An instance that is not a decodable image makes the whole request
fail with HTTP 400 and a message naming the instance; the worker keeps running.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError
from transforms import eval_transform  # packed into the .mar from experiment/transforms.py
from ts.torch_handler.base_handler import BaseHandler
from ts.utils.util import PredictionException

BAD_REQUEST = 400


def decode_instance(index: int, instance: Any) -> Image.Image:
    """The image of one instance: ``{"data": "<base64>"}``, a base64 string, or raw bytes."""
    data = instance.get("data") or instance.get("body") if isinstance(instance, dict) else instance
    try:
        if isinstance(data, str):
            data = base64.b64decode(data, validate=True)
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError("expected {'data': '<base64 image>'}")
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as error:
        raise PredictionException(
            f"instance {index} is not a decodable image ({error}); send "
            '{"instances": [{"data": "<base64 JPEG or PNG>"}]}',
            BAD_REQUEST,
        ) from None


class DogCatHandler(BaseHandler):  # type: ignore[misc]
    """BaseHandler loads the TorchScript model; this adds decoding and the class index."""

    def preprocess(self, data: list[Any]) -> torch.Tensor:
        if not data:
            raise PredictionException('no instances; send {"instances": [...]}', BAD_REQUEST)
        images = [decode_instance(i, instance) for i, instance in enumerate(data)]
        return torch.stack([eval_transform(image) for image in images])

    def postprocess(self, data: torch.Tensor) -> list[int]:
        return [int(index) for index in data.argmax(dim=1).tolist()]
