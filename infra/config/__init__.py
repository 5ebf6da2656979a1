"""The stack configuration: declared once, read once, validated before anything is registered.

Shared parts live here (value types, ``StackConfig``, the key table, the loader, the error
report, the rules engine); the platform's and the flow's groups and rules live next to them
(``infra/platform/config.py``, ``infra/flow/config.py``), and each target's keys, defaults,
checks and facts in ``infra/targets/<target>/config.py``, reaching this package through the
target registry.

``Pulumi.yaml``'s ``config:`` block is generated from the models (``pdk schema --write``) and a
test fails when it is stale, so each default and description exists in exactly one place.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from infra.config.problems import MISSING, ConfigError, Problem
from infra.config.types import (
    OFFLINE_SECRET,
    PROJECT,
    SUPPORTED_KUBERNETES_VERSIONS,
    split_list,
)

if TYPE_CHECKING:
    from infra.config.keys import KEYS, project_config_schema
    from infra.config.load import load_config
    from infra.config.stack import StackConfig
    from infra.platform.config import PRIVATE_NETWORKS, split_label, split_taint

# StackConfig gathers groups from infra/platform/config.py and infra/flow/config.py, which
# import this package's types and problems; importing these names on first use lets either side
# be imported first without a cycle.
_LATER = {
    "KEYS": "infra.config.keys",
    "project_config_schema": "infra.config.keys",
    "load_config": "infra.config.load",
    "StackConfig": "infra.config.stack",
    "PRIVATE_NETWORKS": "infra.platform.config",
    "split_label": "infra.platform.config",
    "split_taint": "infra.platform.config",
}


def __getattr__(name: str) -> Any:
    if name not in _LATER:
        raise AttributeError(f"module 'infra.config' has no attribute {name!r}")
    return getattr(importlib.import_module(_LATER[name]), name)


__all__ = [
    "KEYS",
    "MISSING",
    "OFFLINE_SECRET",
    "PRIVATE_NETWORKS",
    "PROJECT",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "ConfigError",
    "Problem",
    "StackConfig",
    "load_config",
    "project_config_schema",
    "split_label",
    "split_list",
    "split_taint",
]
