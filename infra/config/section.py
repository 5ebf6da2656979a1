"""The config side of a target: its section model, its key prefix and its rules.

Each target's ``config.py`` exports one ``SECTION``; the target registry
(``infra/targets/__init__.py``) carries it, and the key table, the loader and the rules engine
read it from there, so adding a target edits no file in this package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from infra.config.problems import Problem
from infra.config.rules import RuleContext
from infra.config.types import Model

S = TypeVar("S", bound=Model)

SectionRule = Callable[[RuleContext[S]], list[Problem]]


@dataclass(frozen=True)
class TargetSection(Generic[S]):
    """The keys one target owns. A key of a section may only be set on that target."""

    target: str
    """The target's name (the value of the ``target`` key)."""
    prefix: str
    """Prefix of the section's flat keys: ``aws`` makes ``region`` the key ``awsRegion``; an
    empty prefix names keys by their group and field alone (``postgresStorageSize``)."""
    model: type[S]
    """The section's pydantic model: fields, defaults, descriptions, single-value checks."""
    rules: tuple[SectionRule[S], ...] = ()
    """Checks across keys, run once the keys they read have parsed."""
