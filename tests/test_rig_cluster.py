"""A rig that cannot start ends with one clear line naming what is missing, and starts nothing.

``python -m tests.rig.cluster up``'s entry point (``main``) is called in-process with the rig's
own checks; ``running`` and ``stop`` are replaced so that a rig other tests use is never
touched. No binary is run: both refusals happen before anything starts.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.rig import cluster


@pytest.fixture
def quiet_rig(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    stopped: list[str] = []
    monkeypatch.setattr(cluster, "running", lambda: False)
    monkeypatch.setattr(cluster, "stop", lambda quiet=False: stopped.append("stop"))
    monkeypatch.setattr(cluster, "_start", lambda log: pytest.fail("the rig was started"))
    return stopped


def test_missing_binaries_are_named_with_the_command_that_builds_them(
    quiet_rig: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "etcd").touch()
    monkeypatch.setattr(cluster, "BIN", tmp_path)
    assert cluster.main(["up"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "kube-apiserver" in err and "kwok" in err and "etcd," not in err
    assert "make rig" in err


def test_a_taken_port_is_named_with_the_way_out(
    quiet_rig: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in cluster.COMPONENTS:
        (tmp_path / name).touch()
    monkeypatch.setattr(cluster, "BIN", tmp_path)
    monkeypatch.setenv("PDK_RIG_PORT_OFFSET", "1111")
    with socket.socket() as holder:
        holder.bind((cluster.HOST, cluster.port("kube-apiserver")))
        holder.listen()
        assert cluster.main(["up"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert f"{cluster.HOST}:{cluster.PORTS['kube-apiserver'] + 1111}" in err and "taken" in err
    assert "PDK_RIG_PORT_OFFSET" in err
