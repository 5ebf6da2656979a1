"""What the loader and the rules report: one ``Problem`` per thing wrong, all raised at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic_core import PydanticCustomError

from infra.config.types import PROJECT

MISSING: Any = object()
"""The value of a key that is not set (shown as ``(not set)``)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's config, phrased so the user can fix it: the key, the bad
    value, what is allowed and what to run."""

    key: str
    value: Any
    reason: str
    allowed: str = ""
    fix: str = ""
    severity: Literal["error", "warning"] = "error"
    """Errors stop the stack; warnings name an allowed but risky setting and go on."""
    placeholder: bool = False
    """A documentation value standing in for the user's own (``infra.placeholders``): a
    warning offline and in previews, an error when ``pulumi up`` deploys."""

    def render(self) -> str:
        shown = "(not set)" if self.value is MISSING else repr(self.value)
        # A key of another namespace (a misplaced one) is shown as written.
        full_key = self.key if ":" in self.key else f"{PROJECT}:{self.key}"
        text = f"{full_key} = {shown}: {self.reason}."
        if self.allowed:
            label = "Allowed" if self.severity == "error" or self.placeholder else "Safer"
            text += f" {label}: {self.allowed}."
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


def fail(reason: str, allowed: str, fix: str) -> PydanticCustomError:
    """The error a value validator raises; the loader turns it into a ``Problem``."""
    return PydanticCustomError(
        "pdk", "{reason}", {"reason": reason, "allowed": allowed, "fix": fix}
    )


def set_fix(stack: str, key: str, value: str = "VALUE") -> str:
    """The command that sets ``key``, for a problem's fix."""
    return f"pulumi config set {key} {value} --stack {stack}"


def rm_fix(stack: str, key: str) -> str:
    """The command that removes ``key``, for a problem's fix."""
    return f"pulumi config rm {key} --stack {stack}"


def ignored(stack: str, key: str, value: Any, allowed: str, because: str = "") -> Problem:
    """A key that is set although the stack's other settings make it unused: always an error,
    always this message, so a user is never left guessing whether it took effect."""
    why = f" ({because})" if because else ""
    return Problem(
        key,
        value,
        f"is set but unused by this stack's other settings{why}, so it would be ignored",
        allowed,
        rm_fix(stack, key),
    )


def warning(key: str, value: Any, risk: str, safer: str, fix: str) -> Problem:
    """An allowed but risky setting: the key, the risk, and how to narrow it."""
    return Problem(key, value, risk, safer, fix, severity="warning")
