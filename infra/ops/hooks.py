"""What each target contributes to `pdk estimate`, `pdk graph` and `pdk preflight`.

These are optional per-target hooks: a target without a price table costs nothing that this
program creates; a target without a preflight has nothing to check before `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.ops.estimate import PriceLine
    from infra.ops.preflight import Check, PreflightContext

Resources = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class TargetOps:
    create_times: Path | None = None
    """The target's create-time table (format: ``infra/ops/create_times.yaml``)."""
    prices: Path | None = None
    """The target's dated price table (format: ``infra/targets/aws/prices.yaml``)."""
    region: Callable[[Resources], str | None] | None = None
    """The region the plan deploys to, read from the planned resources."""
    price_lines: Callable[[Resources], list[PriceLine]] | None = None
    """The billed items of the planned resources, with min and max quantities."""
    not_counted: tuple[str, ...] = ()
    """Charges the estimate leaves out, in plain words."""
    capacity: Callable[[Resources], Iterable[str]] | None = None
    """Resources that bring up the first schedulable nodes (workloads wait for them)."""
    preflight: Callable[[PreflightContext], Iterable[Check]] | None = None
    """Read-only checks against the real account or cluster."""


def ops_for(target: str) -> TargetOps:
    """The target's hooks from the registry (``TargetSpec.estimate`` returns the estimate's
    tables and functions, ``TargetSpec.preflight`` is the check generator)."""
    from infra.targets import TARGETS

    spec = TARGETS.get(target)
    if spec is None:
        return TargetOps()
    ops: TargetOps = spec.estimate() if spec.estimate is not None else TargetOps()
    if spec.preflight is not None:
        ops = replace(ops, preflight=spec.preflight)
    return ops
