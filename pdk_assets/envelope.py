"""KServe protocol v1 request bodies for image models:
``{"instances": [{"data": "<base64 image>"}, ...]}`` (answered ``{"predictions": [...]}``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def request_body(images: Sequence[bytes]) -> dict[str, Any]:
    """One request carrying ``images`` (encoded files: JPEG, PNG...) as instances."""
    return {"instances": [{"data": base64.b64encode(image).decode("ascii")} for image in images]}


def write_request_files(images: Sequence[Path], out_dir: Path) -> list[Path]:
    """One ``<image stem>.json`` request file per image in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for image in images:
        target = out_dir / f"{image.stem}.json"
        target.write_text(json.dumps(request_body([image.read_bytes()])))
        written.append(target)
    return written
