"""The two ways an operation ends badly, each with its exit code."""

from __future__ import annotations

EXIT_FAILED = 1
"""The operation ran and something is wrong: a check failed, destroy failed, leaks remain."""
EXIT_USAGE = 2
"""Bad input or a missing prerequisite: nothing was changed."""


class OpsError(Exception):
    """One sentence a user can act on, and the exit code that goes with it."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
