"""The shell scripts the setup Jobs run, executed here with their clients faked at the command
boundary (``psql``, ``pg_isready``, ``mc`` are stand-ins on PATH that log their arguments).

This checks the scripts' own logic, re-run safety included; the real clients and servers only
run in a cluster.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CLUSTER_STACKS, STACKS


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


@pytest.mark.parametrize("stack", STACKS)
def test_database_script_creates_only_missing_databases(
    snapshots: dict[str, Any], stack: str, tmp_path: Path
) -> None:
    if not any(r["name"] == "cluster-postgres-databases" for r in snapshots[stack]["resources"]):
        pytest.skip("the target creates the databases through its cloud's API")
    container = job_container(snapshots[stack], "cluster-postgres-databases")
    (tmp_path / "bin").mkdir()
    fake(tmp_path / "bin", "pg_isready", "exit 0")
    # 'dex' already exists: the existence query answers 1 for it only.
    fake(tmp_path / "bin", "psql", 'case "$*" in *"datname = \'dex\'"*) echo 1 ;; esac')
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    code, calls = run_script(tmp_path, container["args"][0], {**env, "PGPASSWORD": "x"})
    assert code == 0
    created = [c for c in calls if "CREATE DATABASE" in c]
    assert created == [
        'psql --dbname=postgres --command=CREATE DATABASE "pachyderm"',
        'psql --dbname=postgres --command=CREATE DATABASE "determined"',
    ]


def test_database_script_waits_for_the_server(snapshots: dict[str, Any], tmp_path: Path) -> None:
    container = job_container(snapshots["local"], "cluster-postgres-databases")
    (tmp_path / "bin").mkdir()
    # Not ready twice, then ready: a counter file tracks the attempts.
    fake(
        tmp_path / "bin",
        "pg_isready",
        f"n=$(cat {tmp_path}/n 2>/dev/null || echo 0); echo $((n+1)) > {tmp_path}/n; "
        '[ "$n" -ge 2 ]',
    )
    fake(tmp_path / "bin", "psql", "exit 0")
    fake(tmp_path / "bin", "sleep", "exit 0")
    code, calls = run_script(tmp_path, container["args"][0], {"PGHOST": "h", "PGPORT": "5432"})
    assert code == 0
    assert [c for c in calls if c.startswith("pg_isready")] == ["pg_isready --quiet"] * 3


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
