"""TorchServe handler of the dog-cat model, for KServe's protocol v1.

``{"instances": [{"data": "<base64 JPEG or PNG>"}, ...]}`` is answered
``{"predictions": [0, 1, ...]}``: one class index per instance (0 = dog, 1 = cat, the order of
``classes`` in example.yaml). The envelope, the request size limit and the 400 answers are
``handler_base`` (``pdk_assets/handler_base.py``, packed into the ``.mar``). An instance that is
not a decodable image fails the request with HTTP 400 and a message naming the instance; the
worker keeps running.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any

import torch
from handler_base import KServeV1Handler, RequestError  # packed from pdk_assets/
from PIL import Image, UnidentifiedImageError
from transforms import eval_transform  # packed into the .mar from experiment/transforms.py

MAX_PIXELS = 64_000_000
"""Largest image (width x height) decoded: 8000x8000, the limit training uses too
(``pdk_assets.labels.MAX_PIXELS``). A PNG declaring 20000x20000 is refused from its header."""


def _image_bytes(data: Any) -> bytes:
    """Base64 text (with or without the line breaks coreutils ``base64`` writes every 76
    columns, as TorchServe's stock vision handler accepts) or raw bytes."""
    if isinstance(data, str):
        return base64.b64decode("".join(data.split()), validate=True)
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise ValueError("expected {'data': '<base64 image>'}")


def decode_instance(index: int, instance: Any) -> Image.Image:
    """The image of one instance: ``{"data": "<base64>"}``, a base64 string, or raw bytes."""
    data = instance.get("data") or instance.get("b64") if isinstance(instance, dict) else instance
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(_image_bytes(data)))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise RequestError(
                    f"instance {index} is a {width}x{height} image; this model decodes at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels (resize it first)"
                )
            image.load()
        return image
    except RequestError:
        raise
    except (
        binascii.Error,
        UnidentifiedImageError,
        OSError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise RequestError(
            f"instance {index} is not a decodable image ({error}); send "
            '{"instances": [{"data": "<base64 JPEG or PNG>"}]}'
        ) from None


class DogCatHandler(KServeV1Handler):
    """Images in, class indices out."""

    def preprocess(self, data: list[Any]) -> torch.Tensor:
        images = [decode_instance(i, instance) for i, instance in enumerate(data)]
        return torch.stack([eval_transform(image) for image in images])

    def postprocess(self, data: torch.Tensor) -> list[int]:
        return [int(index) for index in data.argmax(dim=1).tolist()]
