"""Targets: one module per kind of place the platform runs, each filling a ``TargetContract``.

To add a target, add its name to ``infra.config.Target``, write a package here whose ``build``
function returns the contract, and register it below (CONTRIBUTING.md has the full recipe).
"""

from __future__ import annotations

from collections.abc import Callable

from infra.config import StackConfig
from infra.contract import TargetContract
from infra.naming import Naming
from infra.targets.aws import target as aws
from infra.targets.existing import cluster as existing

TARGETS: dict[str, Callable[[Naming, StackConfig], TargetContract]] = {
    "existing": existing.build,
    "aws": aws.build,
}
