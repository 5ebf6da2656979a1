"""``Pulumi.yaml``'s ``config:`` block, generated from the key table (``pdk schema --write``), so
each default and description exists in exactly one place; a test fails when the file is stale."""

from __future__ import annotations

from typing import Any

import yaml

from infra.config.keys import KEYS

_TYPES: dict[Any, str] = {bool: "boolean", int: "integer"}


def project_config_schema() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of ``Pulumi.yaml``.

    ``kubeconfig`` is not declared ``secret: true`` there: it is optional, and the CLI's handling
    of a secret key that falls back to a default is not something to lean on. ``load_config``
    refuses a plain-text kubeconfig instead, which also covers the offline plan.
    """
    block: dict[str, dict[str, Any]] = {}
    for spec in KEYS.values():
        entry: dict[str, Any] = {"type": _TYPES.get(spec.annotation, "string")}
        entry["description"] = spec.description
        if spec.section is not None:
            entry["description"] += f" (Target: {spec.section}.)"
        if not spec.required:
            entry["default"] = spec.default
        block[spec.key] = entry
    return block


def render_project_file(current: dict[str, Any]) -> str:
    """Pulumi.yaml with its ``config:`` block regenerated from the config models."""
    document = {key: value for key, value in current.items() if key != "config"}
    document["config"] = project_config_schema()
    header = (
        "# Generated config block: edit infra/config/ or infra/targets/<target>/config.py, "
        "then run `pdk schema --write`.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, width=100)
