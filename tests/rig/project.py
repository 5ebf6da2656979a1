"""The project as the real Pulumi CLI sees it, for one stack on the rig.

The CLI runs this repository's program unchanged: ``Pulumi.yaml`` and ``__main__.py`` are copied
into ``.rig/projects/<stack>/`` (the program itself is imported from the repository through the
editable install in ``.venv``), and the stack file is the committed one plus one setting,
``chartArchives``, pointing at the rig's chart archives (there is no internet here). The copy
exists so that ``pulumi stack init`` (which writes the passphrase provider's salt into the stack
file) never edits a committed file.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.rig.build import RIG, ROOT
from tests.rig.cluster import PulumiEnv

PROJECTS = RIG / "projects"
CHARTS = RIG / "charts"
PROJECT = "pdk-deployer"


def rig_settings() -> dict[str, str]:
    """What the rig sets on top of a committed stack file: where charts come from, and the one
    pin the Go module proxy cannot serve (KServe v0.17.1's module is refused; the rig installs
    v0.17.0, the nearest served release, and the note of issue 20 says so)."""
    from tests.rig import charts

    return {"chartArchives": str(CHARTS), "kserveChartVersion": charts.KSERVE_VERSION}


@dataclass(frozen=True)
class Result:
    """One CLI run: its exit code, its output and how long it took."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def check(self) -> Result:
        if self.returncode != 0:
            tail = "\n".join((self.stdout + self.stderr).strip().splitlines()[-40:])
            raise AssertionError(f"pulumi {' '.join(self.args)} exited {self.returncode}:\n{tail}")
        return self


def workspace(stack: str, extra_config: dict[str, str] | None = None) -> Path:
    """``.rig/projects/<stack>/``, made or refreshed from the committed files. The stack file
    keeps the salt a previous ``stack init`` wrote, so its state stays readable."""
    work = PROJECTS / stack
    (work / "stacks").mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        (work / name).write_bytes((ROOT / name).read_bytes())
    venv = work / ".venv"
    if not venv.exists():
        venv.symlink_to(ROOT / ".venv")
    target = work / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()) or {}
    if target.exists():
        previous = yaml.safe_load(target.read_text()) or {}
        if "encryptionsalt" in previous:
            document["encryptionsalt"] = previous["encryptionsalt"]
    config = document.setdefault("config", {})
    for key, value in {**rig_settings(), **(extra_config or {})}.items():
        config[f"{PROJECT}:{key}"] = value
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return work


def pulumi(work: Path, *args: str, timeout: float = 900) -> Result:
    """Runs the real CLI in ``work`` with the rig's environment (no downloads, local state)."""
    env = {**os.environ, **PulumiEnv.make().variables}
    started = time.monotonic()
    done = subprocess.run(
        [str(RIG / "bin" / "pulumi"), "--non-interactive", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(
        tuple(args), done.returncode, done.stdout, done.stderr, time.monotonic() - started
    )


def ensure_stack(work: Path, stack: str) -> None:
    """Selects the stack, creating it with the passphrase secrets provider the first time."""
    if pulumi(work, "stack", "select", stack).returncode != 0:
        pulumi(work, "stack", "init", stack, "--secrets-provider", "passphrase").check()
