"""From an MLDE checkpoint to what KServe's TorchServe runtime loads: the trained model rebuilt
on CPU, exported to TorchScript, archived into ``<model>.mar`` with the example's handler, and
TorchServe's ``config.properties``.

Layout (KServe's TorchServe runtime starts ``torchserve --model-store=/mnt/models/model-store
--ts-config=/mnt/models/config/config.properties`` on the storageUri's contents)::

    <model>/config/config.properties
    <model>/model-store/<model>.mar

Request format and limits: the ``.mar`` carries ``pdk_assets/handler_base.py`` (the KServe v1
envelope and the 400 answers) and ``pdk-serving.json``; ``config.properties`` sets no
service envelope and ``max_request_size`` deliberately (see ``config_properties``).
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pdk_assets.manifest import ExampleManifest

MODEL_VERSION = "1.0"
"""TorchServe model version inside the archive; KServe serves one version per service."""
KSERVE_MODEL_STORE = "/mnt/models/model-store"
"""Where KServe's storage initializer puts ``<storageUri>/model-store``."""
INFERENCE_PORT = 8085
"""The port KServe's TorchServe wrapper forwards requests to (its default address)."""
MANAGEMENT_PORT = 8085
METRICS_PORT = 8082
GRPC_INFERENCE_PORT = 7070
GRPC_MANAGEMENT_PORT = 7071
HANDLER_BASE = Path(__file__).resolve().parent / "handler_base.py"
"""Packed into every ``.mar``: the example handlers import it as ``handler_base``."""
SETTINGS_FILE = "pdk-serving.json"
FRONTEND_LIMIT_FACTOR = 2
"""TorchServe's ``max_request_size`` is this many times the handler's limit, so a body over the
handler's limit still reaches the handler, which answers 400 with a JSON message naming the
limit; only bodies over this larger bound get TorchServe's own empty 413 (it has no body)."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be turned into a served model; the message names the folder."""


@dataclass(frozen=True)
class ModelFiles:
    """The files the deploy step uploads, as ``(local path, key under <model>/)`` pairs."""

    config_properties: Path
    archive: Path

    def uploads(self, model_name: str) -> list[tuple[Path, str]]:
        return [
            (self.config_properties, f"{model_name}/config/config.properties"),
            (self.archive, f"{model_name}/model-store/{self.archive.name}"),
        ]


def load_trained_model(manifest: ExampleManifest, checkpoint_dir: Path) -> Any:
    """Rebuilds the example's trial from the checkpoint's hyperparameters and config on CPU and
    returns its (first) model with the trained weights, in eval mode."""
    import determined as det
    import torch
    from determined import pytorch

    load_data_file = checkpoint_dir / "load_data.json"
    state_file = checkpoint_dir / "state_dict.pth"
    if not load_data_file.is_file() or not state_file.is_file():
        raise CheckpointError(
            f"{checkpoint_dir}: not a PyTorchTrial checkpoint (needs load_data.json and "
            "state_dict.pth); was the model trained with the example's trial?"
        )
    load_data = json.loads(load_data_file.read_text())
    module_name, _, class_name = manifest.experiment.trial.partition(":")
    with det.import_from_path(manifest.experiment_dir):
        trial_class = getattr(importlib.import_module(module_name), class_name)
        context = pytorch.CheckpointLoadContext(
            load_data["hparams"], load_data["experiment_config"]
        )
        trial_class(context)
    # Our own checkpoint, so full unpickling is safe; metrics in it are not plain tensors.
    state = torch.load(state_file, map_location="cpu", weights_only=False)
    if not context.models:
        raise CheckpointError(f"{manifest.experiment.trial} wraps no model (context.wrap_model)")
    model = context.models[0]
    model.load_state_dict(state["models_state_dict"][0])
    return model.eval()


def export_torchscript(model: Any, path: Path) -> Path:
    """Scripts ``model`` (no example input needed, control flow kept) and saves it."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.script(model).save(str(path))
    return path


def build_archive(manifest: ExampleManifest, serialized: Path, export_dir: Path) -> Path:
    """``<model_name>.mar`` with the TorchScript file, the handler and the example's
    ``serving.extra_files``, via torch-model-archiver's Python API."""
    from model_archiver.model_archiver_config import ModelArchiverConfig
    from model_archiver.model_packaging import generate_model_archive

    export_dir.mkdir(parents=True, exist_ok=True)
    settings = export_dir.parent / "archive-extra" / SETTINGS_FILE
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps(serving_settings(manifest), sort_keys=True))
    extra = ",".join(
        [
            str(HANDLER_BASE),
            str(settings),
            *(str(manifest.folder / name) for name in manifest.serving.extra_files),
        ]
    )
    # torch-model-archiver stages files in <tempfile.gettempdir()>/<model name>, shared by every
    # archive of that name on the machine: two builds at once (two dry runs, parallel CI jobs)
    # delete each other's files. A private temporary folder per build keeps them apart.
    staging = Path(tempfile.mkdtemp(prefix="archive-", dir=export_dir.parent))
    previous, tempfile.tempdir = tempfile.tempdir, str(staging)
    try:
        generate_model_archive(
            ModelArchiverConfig(
                model_name=manifest.serving.model_name,
                handler=str(manifest.handler),
                version=MODEL_VERSION,
                serialized_file=str(serialized),
                extra_files=extra,
                export_path=str(export_dir),
                force=True,
            )
        )
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(staging, ignore_errors=True)
    return export_dir / f"{manifest.serving.model_name}.mar"


def max_request_bytes(manifest: ExampleManifest) -> int:
    """The handler's request limit (``serving.max_request_mb``), in bytes."""
    return manifest.serving.max_request_mb * 1024 * 1024


def serving_settings(manifest: ExampleManifest) -> dict[str, Any]:
    """``pdk-serving.json`` inside the ``.mar``, read by ``handler_base``."""
    return {
        "max_request_bytes": max_request_bytes(manifest),
        "classes": list(manifest.classes),
        "example": manifest.name,
    }


def config_properties(
    manifest: ExampleManifest,
    model_store: str = KSERVE_MODEL_STORE,
    addresses: dict[str, str] | None = None,
) -> str:
    """TorchServe's ``config.properties`` for KServe's TorchServe runtime (protocol v1).

    No ``service_envelope``, and ``enable_envvars_config=false`` so the runtime's
    ``TS_SERVICE_ENVELOPE=kserve`` is ignored: TorchServe's envelope parses the body before any
    handler code and answers malformed bodies with 503; ``handler_base`` parses the same KServe
    v1 format and answers them with 400. ``max_request_size`` (and ``max_response_size``) is
    ``FRONTEND_LIMIT_FACTOR`` times ``serving.max_request_mb``: TorchServe's default, 6.5 MB,
    refused a 5 MB JPEG in base64 with an empty 413. ``addresses`` (the dry run) replaces the
    listening addresses and ports.
    """
    serving = manifest.serving
    snapshot = {
        "name": "startup.cfg",
        "modelCount": 1,
        "models": {
            serving.model_name: {
                MODEL_VERSION: {
                    "defaultVersion": True,
                    "marName": f"{serving.model_name}.mar",
                    "minWorkers": serving.min_workers,
                    "maxWorkers": serving.max_workers,
                    "batchSize": serving.batch_size,
                    "maxBatchDelay": serving.max_batch_delay_ms,
                    "responseTimeout": serving.response_timeout_s,
                }
            }
        },
    }
    properties = {
        "inference_address": f"http://0.0.0.0:{INFERENCE_PORT}",
        "management_address": f"http://0.0.0.0:{MANAGEMENT_PORT}",
        "metrics_address": f"http://0.0.0.0:{METRICS_PORT}",
        "grpc_inference_port": str(GRPC_INFERENCE_PORT),
        "grpc_management_port": str(GRPC_MANAGEMENT_PORT),
        "enable_metrics_api": "true",
        "metrics_mode": "prometheus",
        "number_of_netty_threads": "4",
        "job_queue_size": "100",
        "enable_envvars_config": "false",
        "install_py_dep_per_model": "true",
        "max_request_size": str(FRONTEND_LIMIT_FACTOR * max_request_bytes(manifest)),
        "max_response_size": str(FRONTEND_LIMIT_FACTOR * max_request_bytes(manifest)),
        # Requests reach TorchServe only through KServe's wrapper in the same pod (and Istio
        # in front of it), which does not send TorchServe 0.11+'s API tokens.
        "disable_token_authorization": "true",
        "model_store": model_store,
        "model_snapshot": json.dumps(snapshot, separators=(",", ":")),
    }
    properties.update(addresses or {})
    return "".join(f"{key}={value}\n" for key, value in properties.items())


def build_model_files(manifest: ExampleManifest, checkpoint_dir: Path, workdir: Path) -> ModelFiles:
    """Checkpoint → TorchScript → ``.mar`` and ``config.properties`` under ``workdir``."""
    model = load_trained_model(manifest, checkpoint_dir)
    serialized = export_torchscript(model, workdir / "export" / "model.pt")
    archive = build_archive(manifest, serialized, workdir / "model-store")
    properties = workdir / "config" / "config.properties"
    properties.parent.mkdir(parents=True, exist_ok=True)
    properties.write_text(config_properties(manifest))
    return ModelFiles(config_properties=properties, archive=archive)
