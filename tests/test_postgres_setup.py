"""The database-setup Job's script, as the stacks declare it, run against real PostgreSQL
servers on loopback (``tests/postgres_server.py``): a plain one and an SSL-only one.

Only ``PGHOST``/``PGPORT``/``PGPASSWORD`` (and the CA path) are pointed at the test servers;
the script, its database list and the rest of its environment come from each stack's plan.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.contract import DATABASES
from tests.postgres_server import Server, bin_dir, self_signed, servers

pytestmark = pytest.mark.skipif(
    bin_dir() is None and os.environ.get("CI") != "true",
    reason="PostgreSQL server not installed (CI installs it: .ci/run)",
)


@pytest.fixture(scope="session")
def pg() -> Iterator[tuple[Server, Server]]:
    with servers() as pair:
        yield pair


@pytest.fixture
def plain(pg: tuple[Server, Server]) -> Server:
    return _fresh(pg[0])


@pytest.fixture
def ssl_only(pg: tuple[Server, Server]) -> Server:
    return _fresh(pg[1])


def _fresh(server: Server) -> Server:
    for db in DATABASES:
        server.query(f'DROP DATABASE IF EXISTS "{db}"')
    return server


def _job(snapshot: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    job = next(r for r in snapshot["resources"] if r["name"] == "cluster-postgres-databases")
    spec = job["inputs"]["spec"]
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    return container["args"][0], env, spec


def run(script: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # A shorter wait than the Job's, so a test that should fail at once cannot hang for minutes.
    return subprocess.run(
        ["/bin/sh", "-c", script],
        env={"PATH": os.environ["PATH"], **env, "WAIT_SECONDS": env.get("WAIT_SECONDS_TEST", "20")},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def databases(server: Server) -> set[str]:
    names = server.query("SELECT datname FROM pg_database").split()
    return set(names) & set(DATABASES)


def test_first_run_creates_every_database(snapshots: dict[str, Any], plain: Server) -> None:
    script, env, _ = _job(snapshots["local"])
    result = run(script, {**env, **plain.env()})
    assert result.returncode == 0, result.stderr
    assert databases(plain) == set(DATABASES)
    assert [line for line in result.stdout.splitlines() if line.startswith("database")] == [
        f"database {db} created" for db in DATABASES
    ]


def test_rerun_changes_nothing(snapshots: dict[str, Any], plain: Server) -> None:
    script, env, _ = _job(snapshots["local"])
    assert run(script, {**env, **plain.env()}).returncode == 0
    again = run(script, {**env, **plain.env()})
    assert again.returncode == 0, again.stderr
    assert [line for line in again.stdout.splitlines() if line.startswith("database")] == [
        f"database {db} already exists" for db in DATABASES
    ]


def test_creates_only_missing_databases(snapshots: dict[str, Any], plain: Server) -> None:
    plain.query('CREATE DATABASE "dex"')
    script, env, _ = _job(snapshots["onprem"])
    result = run(script, {**env, **plain.env()})
    assert result.returncode == 0, result.stderr
    assert "database dex already exists" in result.stdout
    assert [db for db in DATABASES if f"database {db} created" in result.stdout] == [
        db for db in DATABASES if db != "dex"
    ]
    assert databases(plain) == set(DATABASES)


def test_wrong_password_fails_at_once_with_the_server_error(
    snapshots: dict[str, Any], plain: Server
) -> None:
    script, env, _ = _job(snapshots["local"])
    started = time.monotonic()
    result = run(script, {**env, **plain.env(PGPASSWORD="not-the-password")})
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert f"cannot use postgres at 127.0.0.1:{plain.port}" in result.stderr
    assert time.monotonic() - started < 15, "a wrong password must not be waited on"
    assert databases(plain) == set()


def test_unreachable_server_times_out_with_the_cause(snapshots: dict[str, Any]) -> None:
    script, env, _ = _job(snapshots["local"])
    # A port bound but never listened on refuses connections, and holding it for the whole run
    # keeps anything else from taking it, including psql itself as its own ephemeral source
    # port (a TCP self-connect, which made this test flaky with a merely free port).
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = int(holder.getsockname()[1])
        started = time.monotonic()
        result = run(
            script,
            {
                **env,
                "PGHOST": "127.0.0.1",
                "PGPORT": str(port),
                "PGPASSWORD": "x",
                "WAIT_SECONDS_TEST": "3",
            },
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert f"gave up after 3s waiting for postgres at 127.0.0.1:{port}" in result.stderr
    assert "Connection refused" in result.stderr
    assert f"waiting for postgres at 127.0.0.1:{port}: " in result.stdout
    assert 3 <= elapsed < 60, result.stderr  # generous: CI machines can be slow


def test_gives_up_only_once_the_whole_wait_has_passed(
    snapshots: dict[str, Any], tmp_path: Path
) -> None:
    """``date +%s`` counts whole seconds: a clock that reads start + WAIT_SECONDS may be only
    WAIT_SECONDS - 1 seconds later, so the script must wait for the clock to pass the deadline.
    The clock is the seam here (the real one cannot be set): a stand-in ``date`` first on PATH
    reads 100, then 103, then 104; with a 3 s wait the script must try twice and give up at 104.
    The server is a bound port that refuses connections, as in the test above."""
    (tmp_path / "reads").write_text("")
    fake = tmp_path / "date"
    fake.write_text(
        f'#!/bin/sh\necho x >> "{tmp_path}/reads"\n'
        f'case $(wc -l < "{tmp_path}/reads") in 1) echo 100 ;; 2) echo 103 ;; *) echo 104 ;; esac\n'
    )
    fake.chmod(0o755)
    script, env, _ = _job(snapshots["local"])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = str(holder.getsockname()[1])
        result = run(
            script,
            {
                **env,
                "PATH": f"{tmp_path}:{os.environ['PATH']}",
                "PGHOST": "127.0.0.1",
                "PGPORT": port,
                "PGPASSWORD": "x",
                "WAIT_SECONDS_TEST": "3",
            },
        )
    assert result.returncode == 1
    assert "gave up after 3s" in result.stderr
    assert result.stdout.count("waiting for postgres") == 1, result.stdout
    assert (tmp_path / "reads").read_text().count("x") == 3


def test_ssl_only_server_verified_against_its_ca(
    snapshots: dict[str, Any], ssl_only: Server
) -> None:
    script, env, _ = _job(snapshots["aws"])
    assert env["PGSSLMODE"] == "verify-full"
    assert ssl_only.ca_file is not None
    result = run(script, {**env, **ssl_only.env(PGSSLROOTCERT=str(ssl_only.ca_file))})
    assert result.returncode == 0, result.stderr
    assert databases(ssl_only) == set(DATABASES)


def test_ssl_only_server_rejects_a_plain_client(
    snapshots: dict[str, Any], ssl_only: Server
) -> None:
    script, env, _ = _job(snapshots["local"])
    assert env["PGSSLMODE"] == "disable"
    result = run(script, {**env, **ssl_only.env()})
    assert result.returncode == 1
    assert "no encryption" in result.stderr or "pg_hba.conf" in result.stderr, result.stderr


def test_verify_full_refuses_a_server_signed_by_another_ca(
    snapshots: dict[str, Any], ssl_only: Server, tmp_path: Path
) -> None:
    script, env, _ = _job(snapshots["aws"])
    other_ca, _ = self_signed(tmp_path, "other")
    result = run(script, {**env, **ssl_only.env(PGSSLROOTCERT=str(other_ca))})
    assert result.returncode == 1
    assert "certificate verify failed" in result.stderr, result.stderr
    assert databases(ssl_only) == set()


def test_verify_full_refuses_a_server_without_ssl(
    snapshots: dict[str, Any], plain: Server, tmp_path: Path
) -> None:
    script, env, _ = _job(snapshots["aws"])
    ca, _ = self_signed(tmp_path, "ca")
    result = run(script, {**env, **plain.env(PGSSLROOTCERT=str(ca))})
    assert result.returncode == 1
    assert "server does not support SSL" in result.stderr, result.stderr


@pytest.mark.parametrize("stack", ["aws", "local", "onprem"])
def test_job_has_a_deadline(snapshots: dict[str, Any], stack: str) -> None:
    _, env, spec = _job(snapshots[stack])
    assert spec["activeDeadlineSeconds"] > int(env["WAIT_SECONDS"])
    assert int(env["PGCONNECT_TIMEOUT"]) <= 30
