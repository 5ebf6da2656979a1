"""The MinIO setup Job's script, executed here with its client faked at the command boundary
(``mc`` is a stand-in on PATH that logs its arguments): this checks the script's own logic,
re-run safety included; the real MinIO only runs in a cluster. The database-setup script runs
against real PostgreSQL servers instead (``tests/test_postgres_setup.py``).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CLUSTER_STACKS


def job_container(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    job = next(r for r in snapshot["resources"] if r["name"] == name)
    container: dict[str, Any] = job["inputs"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "-c"]
    return container


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "$CALLS"\n{body}\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run_script(tmp_path: Path, script: str, env: dict[str, str]) -> tuple[int, list[str]]:
    calls = tmp_path / "calls.log"
    calls.touch()
    bin_dir = tmp_path / "bin"
    result = subprocess.run(
        ["/bin/sh", "-c", script],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode, calls.read_text().splitlines()


MC_ATTACHED = """\
case "$*" in
  "admin policy attach"*) echo "policy change is already in effect" >&2; exit 1 ;;
  "admin user info"*) echo "Policy: pdk-mldm pdk-mlde pdk-kserve pdk-flow" ;;
esac"""
MC_BROKEN = """\
case "$*" in
  "admin policy attach"*) exit 1 ;;
  "admin user info"*) echo "Policy: none" ;;
esac"""


def minio_env(container: dict[str, Any]) -> dict[str, str]:
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    for e in container["env"]:
        if "valueFrom" in e:
            env[e["name"]] = f"value-of-{e['name']}"
    return env


@pytest.mark.parametrize("stack", IN_CLUSTER_STACKS)
def test_minio_script_creates_buckets_users_and_policies(
    snapshots: dict[str, Any], stack: str, tmp_path: Path
) -> None:
    container = job_container(snapshots[stack], "cluster-minio-setup")
    (tmp_path / "bin").mkdir()
    fake(tmp_path / "bin", "mc", "exit 0")
    env = minio_env(container)
    code, calls = run_script(tmp_path, container["args"][0], env)
    assert code == 0
    buckets = env["BUCKETS"].split()
    assert [c for c in calls if c.startswith("mc mb")] == [
        f"mc mb --ignore-existing pdk/{bucket}" for bucket in buckets
    ]
    for workload in ("mldm", "mlde", "kserve"):
        upper = workload.upper()
        assert (
            f"mc admin user add pdk value-of-{upper}_ACCESS_KEY value-of-{upper}_SECRET_KEY"
            in calls
        )
        assert (
            f"mc admin policy attach pdk pdk-{workload} --user value-of-{upper}_ACCESS_KEY" in calls
        )
        written = Path("/tmp") / f"{workload}-policy.json"
        assert written.read_text() == env[f"POLICY_{upper}"]


def test_minio_script_rerun_accepts_an_attached_policy(
    snapshots: dict[str, Any], tmp_path: Path
) -> None:
    container = job_container(snapshots["local"], "cluster-minio-setup")
    (tmp_path / "bin").mkdir()
    fake(tmp_path / "bin", "mc", MC_ATTACHED)
    code, _ = run_script(tmp_path, container["args"][0], minio_env(container))
    assert code == 0


def test_minio_script_fails_when_a_policy_cannot_be_attached(
    snapshots: dict[str, Any], tmp_path: Path
) -> None:
    container = job_container(snapshots["local"], "cluster-minio-setup")
    (tmp_path / "bin").mkdir()
    fake(tmp_path / "bin", "mc", MC_BROKEN)
    code, calls = run_script(tmp_path, container["args"][0], minio_env(container))
    assert code == 1
    assert not any("pdk-mlde" in c for c in calls)  # stopped at the first workload
