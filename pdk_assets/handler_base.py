"""The base of every example's TorchServe handler: KServe protocol v1 parsed and answered here,
so every malformed request gets HTTP 400 with a JSON message, and never TorchServe's 503
"Prediction failed".

Oversized bodies: over the example's limit (``serving.max_request_mb``) the handler answers 400
with a message naming the limit. Not 413: TorchServe's frontend turns a handler's 413 into 507
(it keeps 413 for a worker killed out of memory). Over TorchServe's own ``max_request_size``
(twice the limit, ``pdk_assets.serving``) its HTTP layer answers a bare 413 before the handler.

TorchServe's ``kserve`` service envelope parses the body before any handler code runs: an
empty body, invalid JSON or a body without ``instances`` raised inside it and came back as 503.
``pdk_assets.serving`` therefore configures no envelope (and ignores the runtime's
``TS_SERVICE_ENVELOPE``), and this handler reads ``{"instances": [...]}`` itself and answers
``{"predictions": [...]}``, one prediction per instance, for each request of a batch.

``torch-model-archiver`` packs this file beside the example's handler (``pdk_assets.serving``),
with ``pdk-serving.json`` (the limits below); the handler imports it as ``handler_base``.
Only the standard library, torch and TorchServe are imported: the serving runtime has nothing
else.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ts.torch_handler.base_handler import BaseHandler
from ts.utils.util import PredictionException

logger = logging.getLogger(__name__)

BAD_REQUEST = 400
SETTINGS_FILE = "pdk-serving.json"
"""Written into the ``.mar`` by ``pdk_assets.serving``: ``max_request_bytes`` and the
example's own settings."""
DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
USAGE = 'send {"instances": [...]} as JSON'


class RequestError(PredictionException):  # type: ignore[misc]
    """A request this handler refuses; TorchServe answers ``{"code", "type", "message"}``."""

    def __init__(self, message: str, status: int = BAD_REQUEST) -> None:
        super().__init__(message, status)


def body_size(body: Any) -> int:
    """Bytes of a request body: exact for raw bodies, the text of decoded JSON otherwise (the
    sum of its strings, which is what dominates: base64 images, timestamps)."""
    if isinstance(body, (bytes, bytearray, str)):
        return len(body)
    if isinstance(body, dict):
        return sum(body_size(key) + body_size(value) for key, value in body.items())
    if isinstance(body, list):
        return sum(body_size(value) for value in body)
    return 8


def instances_of(row: dict[str, Any], max_bytes: int) -> list[Any]:
    """The instances of one request TorchServe hands the handler (``{"body": ...}``): JSON
    TorchServe already decoded, or raw bytes when it could not (invalid JSON, other types)."""
    body = row.get("body") if row.get("body") is not None else row.get("data")
    size = body_size(body) if body is not None else 0
    if size > max_bytes:
        raise RequestError(
            f"request body is {size / 2**20:.1f} MiB; this model accepts at most "
            f"{max_bytes / 2**20:.0f} MiB per request (send fewer or smaller instances)"
        )
    if isinstance(body, (bytes, bytearray)):
        if not body.strip():
            raise RequestError(f"empty request body; {USAGE}")
        try:
            body = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise RequestError(f"request body is not valid JSON ({error}); {USAGE}") from None
    if isinstance(body, str):
        if not body.strip():
            raise RequestError(f"empty request body; {USAGE}")
        raise RequestError(f"request body is text, not a JSON object; {USAGE}")
    if not isinstance(body, dict) or "instances" not in body:
        raise RequestError(f"request body has no 'instances'; {USAGE}")
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        raise RequestError(f"'instances' must be a non-empty list; {USAGE}")
    return instances


class KServeV1Handler(BaseHandler):  # type: ignore[misc]
    """BaseHandler loads the TorchScript model; subclasses turn instances into a batch
    (``preprocess``: raise ``RequestError`` for a bad instance) and outputs into one JSON value
    per instance (``postprocess``)."""

    settings: dict[str, Any]

    def initialize(self, context: Any) -> None:
        super().initialize(context)
        model_dir = Path(context.system_properties.get("model_dir", "."))
        settings_file = model_dir / SETTINGS_FILE
        self.settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}

    @property
    def max_request_bytes(self) -> int:
        settings = getattr(self, "settings", {})
        return int(settings.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES))

    def handle(self, data: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        """Every request of TorchServe's batch in one model call; one answer per request."""
        self.context = context
        if not data:
            raise RequestError(f"no request; {USAGE}")
        per_request = [instances_of(row, self.max_request_bytes) for row in data]
        instances = [instance for group in per_request for instance in group]
        predictions = self.postprocess(self.inference(self.preprocess(instances)))
        answers, start = [], 0
        for group in per_request:
            answers.append({"predictions": predictions[start : start + len(group)]})
            start += len(group)
        return answers
