"""Brings the rig up for a test session, or says in one line why it cannot.

The binaries are built by ``make rig`` (and ``.ci/run``), never by a test: a cold build takes
tens of minutes. When they are there, the control plane is started (seconds) and the chart
archives are made or found up to date.
"""

from __future__ import annotations

import fcntl
import os

from tests.rig import cluster
from tests.rig.build import BIN, BINARIES, RIG
from tests.rig.project import CHARTS

PLUGINS = ("pulumi-language-python", "pulumi-resource-random", "pulumi-resource-tls")


def unavailable() -> str | None:
    """Why the rig cannot run here, or None when it is up (started if it was not)."""
    missing = [b.name for b in BINARIES if not (BIN / b.name).exists()]
    if missing:
        return f"the rig is not built ({', '.join(missing)} missing): run `make rig`"
    absent = [p for p in PLUGINS if not os.access(cluster.PLUGINS / p, os.X_OK)]
    if absent:
        return f"the rig's plugins are missing from {cluster.PLUGINS}: {', '.join(absent)}"
    from tests.rig import charts

    # pytest-xdist runs test files in parallel: one process at a time writes the archives and
    # starts the control plane, the others then find both ready.
    RIG.mkdir(parents=True, exist_ok=True)
    with open(RIG / "session.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            charts.build_archives(CHARTS, RIG / "go" / "mod")
            cluster.start(log=lambda _line: None)
        except (cluster.RigError, charts.ChartBuildError) as error:
            return f"the rig cannot start: {error}"
    return None
