"""The stack configuration: declared once, read once, validated before anything is registered.

Shared parts live here (value types, the shared groups, ``StackConfig``, the key table, the
loader, the rules engine); each target's keys, defaults, checks and facts live in
``infra/targets/<target>/config.py`` and reach this package through the target registry.

``Pulumi.yaml``'s ``config:`` block is generated from the models (``pdk schema --write``) and a
test fails when it is stale, so each default and description exists in exactly one place.
"""

from infra.config.keys import KEYS, KeySpec, project_config_schema
from infra.config.load import load_config
from infra.config.pools import NodePoolConfig, pool_size_problems
from infra.config.problems import MISSING, ConfigError, Problem
from infra.config.rules import RuleContext
from infra.config.section import TargetSection
from infra.config.stack import StackConfig
from infra.config.types import (
    OFFLINE_SECRET,
    PRIVATE_NETWORKS,
    PROJECT,
    SUPPORTED_KUBERNETES_VERSIONS,
    split_label,
    split_list,
    split_taint,
)

__all__ = [
    "KEYS",
    "MISSING",
    "OFFLINE_SECRET",
    "PRIVATE_NETWORKS",
    "PROJECT",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "ConfigError",
    "KeySpec",
    "NodePoolConfig",
    "Problem",
    "RuleContext",
    "StackConfig",
    "TargetSection",
    "load_config",
    "pool_size_problems",
    "project_config_schema",
    "split_label",
    "split_list",
    "split_taint",
]
