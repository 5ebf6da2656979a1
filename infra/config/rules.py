"""The rules engine. A rule is a function of a ``RuleContext`` returning the problems it finds,
one message family each, and lives next to the keys it reads. Rules read typed, validated values;
touching a key that failed its own check raises ``SkipRule``, so that rule does not run (the user
sees the key's own problem, not a knock-on one) and every other rule still does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from infra.config.problems import Problem
from infra.config.types import Model

if TYPE_CHECKING:
    from infra.config.stack import StackConfig

S = TypeVar("S", bound=Model)


class SkipRule(Exception):
    """Raised when a rule reads a value that failed validation."""


class Partial:
    """A validated model seen through a list of paths that failed: reading one raises
    ``SkipRule``; everything else reads as the model's value."""

    __slots__ = ("_failed", "_model")

    def __init__(self, model: Any, failed: set[tuple[str, ...]]) -> None:
        self._model, self._failed = model, failed

    def __getattr__(self, name: str) -> Any:  # only called for names that are not slots
        if (name,) in self._failed:
            raise SkipRule(name)
        value = getattr(self._model, name)
        nested = {path[1:] for path in self._failed if len(path) > 1 and path[0] == name}
        return Partial(value, nested) if nested else value


@dataclass(frozen=True)
class RuleContext(Generic[S]):
    """What a rule reads."""

    stack: str
    """The stack name, for the fix commands."""
    config: StackConfig
    """The shared keys, validated (failed ones raise ``SkipRule``)."""
    raw: Mapping[str, Any]
    """The keys the stack sets (declared defaults left out), as given."""
    secret_keys: frozenset[str]
    """Keys whose values are Pulumi secrets."""
    active_section: S | None = None

    @property
    def section(self) -> S:
        """The active target's section (rules of a section only run on that target)."""
        if self.active_section is None:
            raise SkipRule("section")
        return self.active_section

    def is_set(self, key: str) -> bool:
        return key in self.raw


Rule = Callable[[RuleContext[Any]], list[Problem]]


def partial(model: S, failed: set[tuple[str, ...]]) -> S:
    """``model`` as rules see it (typed as the model: the proxy reads the same)."""
    return cast(S, Partial(model, failed)) if failed else model


def run_rules(rules: Iterable[Rule], context: RuleContext[Any]) -> list[Problem]:
    problems: list[Problem] = []
    for rule in rules:
        try:
            problems.extend(rule(context))
        except SkipRule:
            continue
    return problems
