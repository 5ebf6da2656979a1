"""What an example hands the local dry run: a generated data commit and the requests to send
once the model is served (``dry_run.samples`` in ``example.yaml``, default ``samples.py``).

The module defines ``write_data(root: Path) -> Path`` and
``request_cases(root: Path) -> list[RequestCase]``, and may define
``request_from_file(path: Path) -> RequestCase`` for ``--request FILE`` arguments that are not
ready request bodies (a ``.json`` file is sent as it is).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pdk_assets.manifest import ExampleManifest, ManifestError


@dataclass(frozen=True)
class RequestCase:
    """One request of the dry run."""

    name: str
    """Shown in the predictions table, e.g. the image file's name."""
    body: bytes
    """The HTTP body, a KServe v1 request (``{"instances": [...]}``) or a deliberately bad one."""
    expected: Any = None
    """What a correct model answers for the first instance (a class name, seconds...), or
    None when unknown."""
    status: int = 200
    """The HTTP status the request must get (400 for a malformed one)."""


def json_request(name: str, instances: list[Any], expected: Any = None) -> RequestCase:
    return RequestCase(name, json.dumps({"instances": instances}).encode(), expected)


def malformed_cases(max_request_bytes: int) -> list[RequestCase]:
    """Requests every example's handler must refuse with 400 (``handler_base``), an oversized
    one included, never with a 5xx."""
    padding = "A" * (max_request_bytes + 1024)
    return [
        RequestCase("empty body", b"", None, 400),
        RequestCase("invalid JSON", b'{"instances": [', None, 400),
        RequestCase("no instances", b'{"inputs": []}', None, 400),
        RequestCase("empty instances", b'{"instances": []}', None, 400),
        RequestCase(
            f"oversized ({(max_request_bytes + 1024) / 2**20:.0f} MiB)",
            json.dumps({"instances": [{"data": padding}]}).encode(),
            None,
            400,
        ),
    ]


def load_samples(manifest: ExampleManifest) -> ModuleType:
    """The example's samples module, loaded from its file under a private name."""
    path = manifest.samples
    spec = importlib.util.spec_from_file_location(f"pdk_samples_{manifest.name}", path)
    if spec is None or spec.loader is None:
        raise ManifestError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for needed in ("write_data", "request_cases"):
        if not callable(getattr(module, needed, None)):
            raise ManifestError(f"{path}: defines no {needed}(root) (see pdk_assets/samples.py)")
    return module


def write_data(manifest: ExampleManifest, root: Path) -> Path:
    folder: Path = load_samples(manifest).write_data(root)
    return folder


def request_cases(manifest: ExampleManifest, root: Path) -> list[RequestCase]:
    cases: list[RequestCase] = load_samples(manifest).request_cases(root)
    return cases


def request_from_file(manifest: ExampleManifest, path: Path) -> RequestCase:
    """A ``--request`` file: a ``.json`` request body as it is, anything else through the
    example's ``request_from_file``."""
    if path.suffix == ".json":
        return RequestCase(path.name, path.read_bytes())
    convert: Callable[[Path], RequestCase] | None = getattr(
        load_samples(manifest), "request_from_file", None
    )
    if convert is None:
        raise ManifestError(
            f"--request {path}: example {manifest.name!r} takes request bodies as .json files "
            "(see its make_requests.py)"
        )
    return convert(path)
