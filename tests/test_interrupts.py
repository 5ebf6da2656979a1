"""Ctrl-C and SIGTERM end the read-only ``pdk`` commands at once, with one line and no
traceback (issue 22). The installed console script (``.venv/bin/pdk``, entry point
``infra.entry:main``) is run as a user runs it and signalled at moments before and during
Pulumi's mock engine; before the fix a SIGINT two seconds into ``pdk plan -s aws`` left the
process waiting in ``epoll_wait`` until it was killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from infra.plan.stackfiles import REPO_ROOT

PDK = REPO_ROOT / ".venv" / "bin" / "pdk"
GRACE_S = 5.0
"""How long after the signal the process may take to end."""


def _interrupt(args: list[str], after: float, signum: int, tmp: Path) -> tuple[int, str, float]:
    env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "200"}
    process = subprocess.Popen(
        [str(PDK), *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after)
    if process.poll() is not None:
        pytest.fail(f"pdk {' '.join(args)} ended before the signal at {after}s")
    process.send_signal(signum)
    sent = time.monotonic()
    try:
        _, err = process.communicate(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"pdk {' '.join(args)} still running {GRACE_S}s after the signal")
    return process.returncode, err, time.monotonic() - sent


@pytest.mark.parametrize("after", [0.3, 1.0, 2.0])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_plan_stops_at_once_with_one_line(after: float, signum: int, tmp_path: Path) -> None:
    code, err, _ = _interrupt(["plan", "-s", "aws"], after, signum, tmp_path)
    assert code == 128 + signum
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("pdk plan: stopped by ") and "nothing changed" in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "-s", "local"],
        ["graph", "-s", "local"],
        ["diff", "-s", "local", "--against", "HEAD"],
    ],
)
def test_read_only_commands_stop_and_leave_no_temporary_folder(
    args: list[str], tmp_path: Path
) -> None:
    code, err, _ = _interrupt(args, 1.0, signal.SIGINT, tmp_path)
    assert code == 130 and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []
