"""Real PostgreSQL servers for tests: one ``initdb`` per session, copied into a plain server
and an SSL-only server (a self-signed certificate for ``localhost``), both on loopback.

initdb refuses to run as root, and CI runs as root: there the servers run as the ``postgres``
user that Debian's package creates. ``.ci/run`` installs Debian's ``postgresql`` and
``openssl`` when missing.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "pdk"
PASSWORD = "pdk-test-password"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    ca_file: Path | None
    """The server certificate (self-signed, so also its CA) when the server only takes SSL."""

    def env(self, **extra: str) -> dict[str, str]:
        """libpq environment of a client of this server."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": SUPERUSER,
            "PGPASSWORD": PASSWORD,
        }
        return {**env, **extra}

    def query(self, sql: str) -> str:
        sslmode = "verify-full" if self.ca_file else "disable"
        env = self.env(
            PGSSLMODE=sslmode, **({"PGSSLROOTCERT": str(self.ca_file)} if self.ca_file else {})
        )
        result = subprocess.run(
            ["psql", "--no-psqlrc", "--dbname=postgres", "--tuples-only", "--no-align", "-c", sql],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout.strip()


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian layout)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name),
    )
    return found[-1].parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], **kwargs: object) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``localhost`` (and 127.0.0.1)."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    _run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ]
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def servers() -> Iterator[tuple[Server, Server]]:
    """``(plain, ssl_only)``, stopped on exit."""
    binaries = bin_dir()
    assert binaries is not None, "PostgreSQL server binaries not found (.ci/run installs them)"
    root = Path(tempfile.mkdtemp(prefix="pdk-pg-"))
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    started: list[Path] = []
    try:
        root.chmod(0o755)
        (root / "pw").write_text(PASSWORD + "\n")
        plain_data, ssl_data = root / "plain", root / "ssl"
        cert, key = self_signed(root, "server")
        if owner is not None:
            for path in (root, root / "pw", cert, key):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        key.chmod(0o600)
        _run(
            _as_server_user(
                [
                    str(binaries / "initdb"), "-D", str(plain_data), "-U", SUPERUSER,
                    f"--pwfile={root / 'pw'}", "--auth-host=scram-sha-256", "--auth-local=trust",
                    "--no-sync",
                ]
            )
        )  # fmt: skip
        _run(_as_server_user(["cp", "-a", str(plain_data), str(ssl_data)]))
        # The copy only takes TLS connections; the original never offers TLS.
        (ssl_data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "hostnossl all all 127.0.0.1/32 reject\n"
        )
        (plain_data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
        result = []
        for data, ssl in ((plain_data, False), (ssl_data, True)):
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} "
                f"-c unix_socket_directories={root} -c fsync=off"
            )
            if ssl:
                options += f" -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
            _run(
                _as_server_user(
                    [
                        str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
                        "-l", str(root / f"{data.name}.log"), "-w", "start",
                    ]
                )
            )  # fmt: skip
            started.append(data)
            result.append(Server("localhost" if ssl else "127.0.0.1", port, cert if ssl else None))
        yield result[0], result[1]
    finally:
        for data in started:
            subprocess.run(
                _as_server_user(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)
