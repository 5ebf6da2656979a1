"""A node pool's shape, shared by the cloud targets (EKS node groups, GKE node pools).

Each target subclasses ``NodePoolConfig`` per pool to give its fields defaults, descriptions and
the cloud's instance-type check; ``pool_size_problems`` is the one sizing rule they all run.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from infra.config.problems import Problem, fail, set_fix
from infra.config.types import Model


def _node_count(value: int) -> int:
    if not 0 <= value <= 100:
        raise fail("is not a node count", "0 to 100", "set a count between 0 and 100")
    return value


def _disk_size(value: int) -> int:
    if not 20 <= value <= 16384:
        raise fail("is not a disk size in GiB", "20 to 16384", "set the size in GiB")
    return value


NodeCount = Annotated[int, AfterValidator(_node_count)]
DiskSize = Annotated[int, AfterValidator(_disk_size)]


class NodePoolConfig(Model):
    """Instance type, autoscaling bounds and disk of one pool. Subclasses set the defaults."""

    instance_type: str
    """The cloud's machine type of the pool's nodes."""
    min_size: NodeCount
    """Fewest nodes the autoscaler keeps."""
    desired_size: NodeCount
    """Nodes at creation; the autoscaler owns the count afterwards."""
    max_size: NodeCount
    """Most nodes the autoscaler may run."""
    disk_size: DiskSize
    """Root volume of each node in GiB."""


def pool_size_problems(stack: str, pool: NodePoolConfig, prefix: str) -> list[Problem]:
    """``min <= desired <= max``, reported on the key to change. ``prefix`` names the pool's
    keys (``awsCpu`` for ``awsCpuMinSize``)."""
    low, desired, high = pool.min_size, pool.desired_size, pool.max_size
    if low > high:
        return [
            Problem(
                f"{prefix}MinSize",
                low,
                f"is larger than {prefix}MaxSize ({high})",
                f"0 to {prefix}MaxSize",
                f"lower {prefix}MinSize or raise {prefix}MaxSize",
            )
        ]
    if not low <= desired <= high:
        return [
            Problem(
                f"{prefix}DesiredSize",
                desired,
                f"is outside {prefix}MinSize..{prefix}MaxSize ({low}..{high})",
                f"{low} to {high}",
                set_fix(stack, f"{prefix}DesiredSize", str(low)),
            )
        ]
    return []
