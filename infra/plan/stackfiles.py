"""Reading ``Pulumi.yaml`` and the stack files in ``stacks/`` without the Pulumi CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import OFFLINE_SECRET, PROJECT

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = "stacks"


@dataclass
class StackFileError(Exception):
    """A stack that does not exist, or whose file cannot be read."""

    message: str

    def __str__(self) -> str:
        return self.message


def known_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Stack names with a ``stacks/Pulumi.<name>.yaml`` file, sorted."""
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")]
        for path in (root / STACKS_DIR).glob("Pulumi.*.yaml")
    )


def _as_config_string(value: Any) -> str:
    """Pulumi hands every value to the program as a string; objects and arrays as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def read_stack(stack: str, root: Path = REPO_ROOT) -> tuple[dict[str, str], frozenset[str]]:
    """The stack's own config keys (namespace stripped) and which are ``secure:`` values.

    Secure values cannot be decrypted without the stack's secrets provider, so they are replaced
    by ``OFFLINE_SECRET``. Keys of other namespaces (``kubernetes:context``) are left out.
    """
    path = root / STACKS_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(root)) or "(none)"
        raise StackFileError(
            f"Unknown stack '{stack}'. Known stacks: {known}. "
            f"Create {STACKS_DIR}/Pulumi.{stack}.yaml to add one."
        )
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.relative_to(root)} is not valid YAML: {error}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.relative_to(root)}: 'config' must be a mapping of keys.")
    raw: dict[str, str] = {}
    secret: set[str] = set()
    prefix = f"{PROJECT}:"
    for full_key, value in config.items():
        key = str(full_key)
        if ":" in key and not key.startswith(prefix):
            continue
        key = key.removeprefix(prefix)
        if isinstance(value, dict) and set(value) == {"secure"}:
            raw[key] = OFFLINE_SECRET
            secret.add(key)
        else:
            raw[key] = _as_config_string(value)
    return raw, frozenset(secret)
