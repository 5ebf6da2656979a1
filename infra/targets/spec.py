"""The record a target registers (``infra/targets/__init__.py``), and what it points to.

Kept free of Pulumi imports: the registry is read by the config loader, whose errors must stay
fast, so a target's ``build`` is imported only when called.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from infra.config.problems import Problem
from infra.config.rules import RuleContext
from infra.config.types import Model

if TYPE_CHECKING:
    from infra.config.stack import StackConfig
    from infra.contract import TargetContract
    from infra.naming import Naming

S = TypeVar("S", bound=Model)

SectionRule = Callable[[RuleContext[S]], list[Problem]]
"""A check across a section's keys, run once the keys it reads have parsed."""

ResourceMock = Callable[[str, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
"""(logical name, inputs, inputs of the target's provider) -> outputs a cloud would add."""
CallMock = Callable[[Mapping[str, Any]], dict[str, Any]]
"""(arguments) -> what a data source returns."""


@dataclass(frozen=True)
class TargetSection(Generic[S]):
    """The keys one target owns (its ``config.py`` exports one as ``SECTION``); the key table
    and the loader read it through the registry. A key of a section may only be set on that
    target."""

    target: str
    """The target's name (the value of the ``target`` key)."""
    prefix: str
    """Prefix of the section's flat keys: ``aws`` makes ``region`` the key ``awsRegion``; an
    empty prefix names keys by their group and field alone (``postgresStorageSize``)."""
    model: type[S]
    """The section's pydantic model: fields, defaults, descriptions, single-value checks."""
    rules: tuple[SectionRule[S], ...] = ()
    """Checks across keys, run once the keys they read have parsed."""


@dataclass(frozen=True)
class OfflineMocks:
    """What the offline plan fakes for a target's cloud: only outputs the program reads, with
    obvious placeholder values, so a new read shows up as a failing plan."""

    resources: Mapping[str, ResourceMock] = field(default_factory=dict)
    """By resource type token."""
    calls: Mapping[str, CallMock] = field(default_factory=dict)
    """By data-source token."""
    load_balancer_ip: bool = False
    """Whether the cloud's load balancers report an IP address (GKE) rather than a host name
    (AWS) in a Service's or Ingress's status."""


def lazy(path: str) -> Callable[..., Any]:
    """``module:function``, imported on the first call."""
    module_name, _, function = path.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), function)(*args, **kwargs)

    call.__qualname__ = path
    return call


@dataclass(frozen=True)
class TargetSpec:
    """One kind of place the platform runs. Everything above the target contract reaches the
    target only through this record."""

    name: str
    """The ``target`` value that selects it."""
    summary: str
    """One sentence for the ``target`` key's description."""
    section: TargetSection[Any]
    """Its config keys, defaults, checks and rules (``infra/targets/<t>/config.py``)."""
    build: Callable[[Naming, StackConfig], TargetContract]
    """Registers the target's resources and returns the contract (imported lazily)."""
    provider_type: str
    """Type token of the target's own provider; the offline plan hands its inputs (region,
    project) to the mocks."""
    mocks: OfflineMocks = field(default_factory=OfflineMocks)
    """Cloud outputs for the offline plan (``infra/targets/<t>/mocks.py``)."""
    plan_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Resource inputs worth showing in the plan tree, by resource type."""
    preflight: Callable[..., Any] | None = None
    """Checks against the live account before ``pulumi up`` (quota, capacity); optional."""
    estimate: Callable[..., Any] | None = None
    """Cost and time estimate from a plan snapshot; optional."""
    cleanup: Callable[..., Any] | None = None
    """Finds what a stack left behind after ``destroy``: ``(infra.ops.leaks.LeakQuery) ->
    LeakReport`` (``infra/targets/<t>/leaks.py``), used by ``pdk ci down`` and ``pdk reap``;
    optional (a target without one cannot be taken down by them)."""
