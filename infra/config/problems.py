"""What the loader and the rules report: one ``Problem`` per thing wrong, all raised at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.config.types import PROJECT


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


MISSING: Any = _Missing()
"""The value shown for a key that is not set."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's config, phrased so the user can fix it: the key, the bad
    value, what is allowed and what to run."""

    key: str
    value: Any
    reason: str
    allowed: str = ""
    fix: str = ""

    def render(self) -> str:
        shown = "(not set)" if self.value is MISSING else repr(self.value)
        text = f"{PROJECT}:{self.key} = {shown}: {self.reason}."
        if self.allowed:
            text += f" Allowed: {self.allowed}."
        if self.fix:
            text += f" Fix: {self.fix}."
        return text


@dataclass
class ConfigError(Exception):
    """Raised once with every problem found in a stack's config."""

    stack: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"Stack '{self.stack}' has {count} configuration problem{'s' * (count != 1)}:"]
        lines += [f"  - {problem.render()}" for problem in self.problems]
        return "\n".join(lines)


def set_fix(stack: str, key: str, value: str = "VALUE") -> str:
    """The command that sets ``key``, for a problem's fix."""
    return f"pulumi config set {key} {value} --stack {stack}"


def rm_fix(stack: str, key: str) -> str:
    """The command that removes ``key``, for a problem's fix."""
    return f"pulumi config rm {key} --stack {stack}"


def ignored(stack: str, key: str, value: Any, allowed: str) -> Problem:
    """A key that is set although the stack's other settings make it unused."""
    return Problem(
        key,
        value,
        "is set but unused by this stack's other settings, so it would be ignored",
        allowed,
        rm_fix(stack, key),
    )
