"""The ``pdk`` entry point: the signal policy, set before anything heavy is imported.

Ctrl-C (SIGINT) or a CI runner's SIGTERM used to reach ``pdk plan`` as a ``KeyboardInterrupt``
inside Pulumi's mock-engine task, which printed tracebacks and then left the process waiting in
``epoll_wait`` on the engine's threads and gRPC servers until it was killed (issue 22). The
commands that only read (the offline plan and everything built on it, and the read-only checks)
have nothing to save or undo, so for them the first signal ends the process at once: one line on
stderr, the temporary folders they registered removed, exit 130 (SIGINT) or 143 (SIGTERM). The
other commands (``ci``, ``reap``, ``verify``, ``preflight``, ``example run``, ``schema --write``)
keep Python's default behaviour for now: they change things and need their own way to stop.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from types import FrameType

READ_ONLY = frozenset({"plan", "diff", "stacks", "config-keys", "estimate", "graph", "schema"})
"""Commands that change nothing (``schema`` only without ``--write``). Not ``preflight``: on an
existing cluster it runs a probe Job, which an interrupt must clean up."""
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 + the signal's number, as shells report a process a signal ended."""

_cleanup: list[str] = []
_command = ""


def remove_on_interrupt(path: str) -> None:
    """A temporary folder the interrupted command must not leave behind."""
    _cleanup.append(path)


def _stop(signum: int, _frame: FrameType | None) -> None:
    for path in _cleanup:
        shutil.rmtree(path, ignore_errors=True)
    name = signal.Signals(signum).name
    sys.stderr.write(f"pdk {_command}: stopped by {name}; it only reads, so nothing changed\n")
    sys.stderr.flush()
    # Not sys.exit: the mock engine's threads and event loop would keep the process alive.
    os._exit(EXIT_CODES[signal.Signals(signum)])


def command_of(argv: list[str]) -> str:
    """The subcommand ``argv`` names (its first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), "")


def main() -> None:
    global _command
    _command = command_of(sys.argv[1:])
    if _command in READ_ONLY and not (_command == "schema" and "--write" in sys.argv):
        for signum in EXIT_CODES:
            signal.signal(signum, _stop)
    from infra.cli import app

    app()
