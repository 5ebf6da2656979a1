"""Local stand-ins for the two cluster services the flow talks to, for the dry run.

- ``LocalMlde`` (an ``MldeClient``): runs the experiment's own entrypoint in MLDE's local
  training mode (Determined's Trainer API outside a cluster) in a subprocess, and keeps a
  registry in memory.
- ``LocalTorchServe`` (a ``KubeApi``): "creating" an InferenceService starts TorchServe the way
  KServe's TorchServe runtime does, on the storageUri's ``model-store/`` and
  ``config/config.properties`` (with the runtime's ``TS_SERVICE_ENVELOPE=kserve``, which the
  file tells TorchServe to ignore), on free localhost ports. Each server has its own state:
  a copy of ``config.properties`` with local addresses, its own temporary folder (TorchServe's
  pid file lives there, so another TorchServe on the machine, or a second dry run, does not
  collide with it) and its own logs.

Everything else (train and deploy logic, the model files, the handler) is the containers' code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pdk_assets.kserve import DeployError
from pdk_assets.mlde import ModelVersionRef
from pdk_assets.train import COMPLETED, TrainError


def _tail(path: Path, lines: int = 25) -> str:
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class _Version:
    checkpoint: str
    name: str
    metadata: dict[str, Any]


class LocalMlde:
    """``MldeClient`` that trains locally; ``max_batches`` shortens ``searcher.max_length`` and
    ``hparams`` overrides hyperparameters (a smaller network, so a laptop CPU trains it in
    seconds)."""

    def __init__(
        self,
        workdir: Path,
        max_batches: int | None = None,
        hparams: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.max_batches = max_batches
        self.hparams = dict(hparams or {})
        self.models: dict[str, list[_Version]] = {}
        self._states: dict[int, str] = {}
        self._checkpoints: dict[int, str | None] = {}
        self.logs: dict[int, Path] = {}
        self.storage = workdir / "checkpoints" / "determined"
        """Where local training writes checkpoints (``$XDG_DATA_HOME/determined``)."""

    def ensure_model(self, name: str, *, workspace: str) -> None:
        self.models.setdefault(name, [])

    def latest_version(self, model: str) -> ModelVersionRef | None:
        versions = self.models.get(model) or []
        if not versions:
            return None
        last = versions[-1]
        return ModelVersionRef(len(versions), last.checkpoint, dict(last.metadata))

    def create_experiment(
        self, config: dict[str, Any], model_dir: Path, includes: Sequence[Path]
    ) -> int:
        experiment = len(self._states) + 1
        config_file = self.workdir / f"experiment-{experiment}.yaml"
        log = self.workdir / f"experiment-{experiment}.log"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config = {**config, "hyperparameters": {**config["hyperparameters"], **self.hparams}}
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        entrypoint = str(config.get("entrypoint", "")).split()
        if len(entrypoint) != 2 or not entrypoint[0].startswith("python"):
            raise TrainError(
                f"entrypoint {config.get('entrypoint')!r}: the dry run runs entrypoints of the "
                "form 'python3 SCRIPT.py' (Trainer API scripts)"
            )
        command = [sys.executable, entrypoint[1], "--local", str(config_file)]
        if self.max_batches:
            command += ["--max-batches", str(self.max_batches)]
        # MLDE uploads `includes` beside the experiment code; here their parents go on the path.
        paths = [str(Path(p).resolve().parent) for p in includes]
        environ = {
            **os.environ,
            "XDG_DATA_HOME": str(self.storage.parent),
            "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]),
        }
        before = set(self.storage.glob("*")) if self.storage.exists() else set()
        with log.open("w") as output:
            result = subprocess.run(
                command, cwd=model_dir, env=environ, stdout=output, stderr=subprocess.STDOUT
            )
        if result.returncode != 0:
            self._states[experiment] = "ERROR"
            raise TrainError(
                f"local training failed (exit {result.returncode}); last lines of {log}:\n"
                + _tail(log)
            )
        created = sorted(set(self.storage.glob("*")) - before, key=lambda p: p.stat().st_mtime)
        # A trial that raised det.InvalidHP (too little usable data) exits 0 without a
        # checkpoint; MLDE reports such an experiment COMPLETED with no checkpoint, and so do we.
        self._states[experiment] = COMPLETED
        self._checkpoints[experiment] = created[-1].name if created else None
        self.logs[experiment] = log
        return experiment

    def wait(self, experiment_id: int) -> str:
        return self._states[experiment_id]

    def best_checkpoint(self, experiment_id: int) -> str | None:
        return self._checkpoints[experiment_id]

    def register_version(
        self, model: str, checkpoint: str, *, name: str, metadata: dict[str, Any]
    ) -> int:
        versions = self.models.setdefault(model, [])
        versions.append(_Version(checkpoint, name, dict(metadata)))
        return len(versions)

    def download_checkpoint(self, checkpoint: str, destination: Path) -> Path:
        shutil.copytree(self.storage / checkpoint, destination, dirs_exist_ok=True)
        return destination


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    body: dict[str, Any]
    ports: dict[str, int]
    log: Path
    temporary: Path
    """Its own temporary folder (pid file, worker sockets), removed when it stops."""


@dataclass
class LocalTorchServe:
    """``KubeApi`` whose InferenceServices are TorchServe processes on localhost.
    ``bucket_root``: the ``LocalStore`` folder ``file://`` storage URIs point into."""

    bucket_root: Path
    workdir: Path
    start_timeout_s: float = 120
    servers: dict[str, _Server] = field(default_factory=dict)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        server = self.servers.get(f"{namespace}/{name}")
        if server is None:
            return None
        if server.process.poll() is not None:
            raise DeployError(
                f"TorchServe for {name} exited ({server.process.returncode}); last lines of "
                f"{server.log}:\n{_tail(server.log)}"
            )
        body = dict(server.body)
        body["metadata"] = {**body["metadata"], "resourceVersion": "1"}
        ready = self._model_ready(server)
        body["status"] = {
            "url": f"http://127.0.0.1:{server.ports['inference']}",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        return body

    def create(self, namespace: str, body: dict[str, Any]) -> None:
        name = body["metadata"]["name"]
        uri = body["spec"]["predictor"]["pytorch"]["storageUri"]
        if not uri.startswith("file://"):
            raise DeployError(f"the local stand-in serves file:// storage URIs, not {uri}")
        model_dir = self.bucket_root / uri.removeprefix("file://")
        ports = {role: free_port() for role in ("inference", "management", "metrics")}
        ports |= {role: free_port() for role in ("grpc_inference", "grpc_management")}
        run_dir = self.workdir / f"torchserve-{name}"
        run_dir.mkdir(parents=True, exist_ok=True)
        # Short: the workers' Unix sockets live here too, and socket paths are capped at 107
        # bytes (a pytest tmp_path is longer).
        temporary = Path(
            tempfile.mkdtemp(prefix="pdk-ts-", dir="/tmp" if os.path.isdir("/tmp") else None)
        )
        log = run_dir / "torchserve.log"
        config = run_dir / "config.properties"
        config.write_text(
            local_properties(
                (model_dir / "config" / "config.properties").read_text(),
                {
                    "inference_address": f"http://127.0.0.1:{ports['inference']}",
                    "management_address": f"http://127.0.0.1:{ports['management']}",
                    "metrics_address": f"http://127.0.0.1:{ports['metrics']}",
                    "grpc_inference_port": str(ports["grpc_inference"]),
                    "grpc_management_port": str(ports["grpc_management"]),
                    "model_store": str(model_dir / "model-store"),
                },
            )
        )
        environ = {
            **os.environ,
            # What KServe's runtime sets; config.properties has enable_envvars_config=false, so
            # TorchServe must ignore it (its envelope would answer bad bodies with 503).
            "TS_SERVICE_ENVELOPE": "kserve",
            # TorchServe keeps its pid file in tempfile.gettempdir() (and the JVM its files in
            # TEMP): one per run, so another TorchServe on this machine does not block this one.
            "TMPDIR": str(temporary),
            "TEMP": str(temporary),
            "LOG_LOCATION": str(run_dir / "logs"),
            "METRICS_LOCATION": str(run_dir / "logs"),
        }
        torchserve = Path(sys.executable).with_name("torchserve")
        command = [
            str(torchserve) if torchserve.exists() else "torchserve",
            "--start",
            "--foreground",
            "--ncs",
            "--model-store",
            str(model_dir / "model-store"),
            "--ts-config",
            str(config),
        ]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=run_dir,
                env=environ,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its Java frontend and Python workers share our group id
            )
        self.servers[f"{namespace}/{name}"] = _Server(process, body, ports, log, temporary)

    def replace(self, namespace: str, name: str, body: dict[str, Any]) -> None:
        self.delete(namespace, name)
        self.create(namespace, body)

    def delete(self, namespace: str, name: str) -> None:
        server = self.servers.pop(f"{namespace}/{name}", None)
        if server is not None:
            _stop(server.process)
            shutil.rmtree(server.temporary, ignore_errors=True)

    def stop(self) -> None:
        for key in list(self.servers):
            namespace, name = key.split("/", 1)
            self.delete(namespace, name)

    def _model_ready(self, server: _Server) -> bool:
        model = next(iter(_snapshot_models(self.bucket_root, server.body)), None)
        url = f"http://127.0.0.1:{server.ports['management']}/models/{model}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                described = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False
        workers = [w for entry in described for w in entry.get("workers", [])]
        return any(worker.get("status") == "READY" for worker in workers)

    def predict(self, namespace: str, name: str, body: bytes) -> tuple[int, Any]:
        """POSTs a KServe v1 body to the model; returns (HTTP status, decoded JSON or text)."""
        server = self.servers[f"{namespace}/{name}"]
        model = next(iter(_snapshot_models(self.bucket_root, server.body)))
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.ports['inference']}/predictions/{model}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode(errors="replace")


def local_properties(properties: str, overrides: dict[str, str]) -> str:
    """``properties`` (a config.properties text) with ``overrides`` replacing or adding keys."""
    lines = [
        line for line in properties.splitlines() if line.partition("=")[0].strip() not in overrides
    ]
    return "\n".join([*lines, *(f"{key}={value}" for key, value in overrides.items())]) + "\n"


def _snapshot_models(bucket_root: Path, body: dict[str, Any]) -> list[str]:
    """Model names in the config.properties' model_snapshot of the service's storage."""
    uri = body["spec"]["predictor"]["pytorch"]["storageUri"].removeprefix("file://")
    properties = (bucket_root / uri / "config" / "config.properties").read_text()
    for line in properties.splitlines():
        if line.startswith("model_snapshot="):
            return list(json.loads(line.partition("=")[2])["models"])
    return []


def _stop(process: subprocess.Popen[bytes], grace_s: float = 15) -> None:
    """Stops TorchServe and its workers: the whole process group it leads."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
    # Workers can outlive the frontend for a moment; clear what is left of the group.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
