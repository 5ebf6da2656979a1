"""The dog-cat dry run's data and requests (``dry_run.samples`` in example.yaml).

``write_data``: generated images (``pdk_assets.synthetic``) in every layout the labelling rule
reads, with the junk it must skip. ``request_cases``: fresh images of each class, base64 as
coreutils writes it, and the image-specific bad requests real clients send, each with the HTTP
status it must get (the dry run adds the malformed bodies every example must refuse).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

from pdk_assets.envelope import request_body
from pdk_assets.labels import label_for
from pdk_assets.samples import RequestCase
from pdk_assets.synthetic import request_images, write_dataset

CLASSES = ["dog", "cat"]


def write_data(root: Path) -> Path:
    return write_dataset(root / "data", CLASSES)


def _line_wrapped(data: bytes) -> str:
    """Base64 as coreutils ``base64`` writes it: a line break every 76 columns."""
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A PNG of a few hundred bytes whose header declares ``width`` x ``height`` pixels (one
    compressed row of zeros stands for the rest, as a decompression bomb's would)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (width + 7) // 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * 8, 9))
        + chunk(b"IEND", b"")
    )


def large_jpeg(width: int = 3000, height: int = 2200) -> bytes:
    """A camera-sized JPEG of noise: about 7.7 MB, 10 MB in base64 (FIX: TorchServe's default
    max_request_size, 6.5 MB, refused it with an empty 413)."""
    from PIL import Image

    noise = Image.effect_noise((width, height), 80)
    image = Image.merge(
        "RGB",
        (
            noise,
            noise.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def request_from_file(path: Path) -> RequestCase:
    label = label_for(path.name, CLASSES)
    return RequestCase(
        path.name,
        json.dumps(request_body([path.read_bytes()])).encode(),
        CLASSES[label] if label is not None else None,
    )


def request_cases(root: Path) -> list[RequestCase]:
    cases = [request_from_file(path) for path in request_images(root / "requests", CLASSES)]
    cat = (root / "requests" / "cat.request0.jpg").read_bytes()
    wrapped = json.dumps({"instances": [{"data": _line_wrapped(cat)}]}).encode()
    return [
        *cases,
        RequestCase("cat, base64 with line breaks", wrapped, "cat"),
        RequestCase("not an image", b'{"instances": [{"data": "bm90IGFuIGltYWdl"}]}', None, 400),
        RequestCase("20000x20000 PNG", json.dumps(request_body([png_bomb()])).encode(), None, 400),
        RequestCase("7.7 MB JPEG", json.dumps(request_body([large_jpeg()])).encode(), None, 200),
    ]
