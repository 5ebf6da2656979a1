"""The deploy container: one ``model-info.yaml`` in, one Ready InferenceService out.

``python -m pdk_assets.deploy --example DIR --model-info /pfs/<train pipeline>/model-info.yaml
[--wait | --no-wait]`` downloads the registered checkpoint from MLDE, rebuilds the model on CPU,
exports TorchScript, builds the ``.mar`` with the example's handler, writes TorchServe's
``config.properties``, uploads both to ``<bucket>/<model>/``, creates or replaces the
InferenceService and, unless ``--no-wait``, waits until it is Ready and prints its URL.

``--wait``/``--no-wait`` is a real boolean flag (the guides parsed ``--wait`` as a string, so
``--wait false`` also waited).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pdk_assets import env
from pdk_assets.kserve import DeployError, KubeApi, apply, inference_service, wait_ready
from pdk_assets.manifest import ExampleManifest, ManifestError, load_manifest
from pdk_assets.mlde import MldeClient
from pdk_assets.model_info import ModelInfoError, read_model_info
from pdk_assets.serving import CheckpointError, build_model_files
from pdk_assets.storage import ModelStore, StorageError


@dataclass(frozen=True)
class DeployTarget:
    """Where the model goes."""

    bucket: str
    """``PDK_MODEL_BUCKET``."""
    namespace: str
    """``KSERVE_NAMESPACE``: namespace of the InferenceService."""
    service_account: str = env.DEFAULT_KSERVE_SERVICE_ACCOUNT
    """``PDK_KSERVE_SERVICE_ACCOUNT``: what the predictor reads the bucket as."""
    wait_timeout_s: float = 600
    """How long ``--wait`` waits for Ready."""
    deployment_id: str = ""
    """``PDK_DEPLOYMENT_ID``: the stack's deployment id, a label on the InferenceService."""
    gpu_toleration: dict[str, str] | None = None
    """``PDK_GPU_TOLERATION``: the stack's GPU taint as a toleration."""


def storage_uri(scheme: str, bucket: str, model_name: str) -> str:
    """KServe's storageUri: the prefix holding ``config/`` and ``model-store/``."""
    return f"{scheme}://{bucket}/{model_name}"


def run_deploy(
    manifest: ExampleManifest,
    model_info: Path,
    mlde: MldeClient,
    store: ModelStore,
    kube: KubeApi,
    target: DeployTarget,
    *,
    wait: bool,
    workdir: Path,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] | None = None,
) -> str | None:
    """Serves the model ``model_info`` names; returns the URL when ``wait``, else None."""
    info = read_model_info(model_info)
    if info.example != manifest.name:
        raise ModelInfoError(
            f"{model_info}: model of example {info.example!r}, but this deploy step serves "
            f"{manifest.name!r}; check the deploy pipeline's input"
        )
    say(f"deploying {info.name} version {info.version} (checkpoint {info.checkpoint})")
    checkpoint = mlde.download_checkpoint(info.checkpoint, workdir / "checkpoint")
    files = build_model_files(manifest, checkpoint, workdir / "build")
    model_name = manifest.serving.model_name
    for source, key in files.uploads(model_name):
        store.upload(source, target.bucket, key)
        say(f"uploaded {store.scheme}://{target.bucket}/{key}")
    body = inference_service(
        manifest,
        namespace=target.namespace,
        storage_uri=storage_uri(store.scheme, target.bucket, model_name),
        service_account=target.service_account,
        job_id=info.job_id,
        model_version=info.version,
        deployment_id=target.deployment_id,
        gpu_toleration=target.gpu_toleration,
    )
    name = manifest.serving.inference_service
    verb = apply(kube, body)
    say(f"InferenceService {target.namespace}/{name} {verb}")
    if not wait:
        return None
    url = wait_ready(
        kube, target.namespace, name, timeout_s=target.wait_timeout_s, sleep=sleep or time.sleep
    )
    say(f"InferenceService {name} is Ready: {url}/v1/models/{model_name}:predict")
    return url


def gpu_toleration_from(value: str) -> dict[str, str] | None:
    """``PDK_GPU_TOLERATION``'s JSON toleration; None when empty."""
    if not value.strip():
        return None
    try:
        toleration = json.loads(value)
    except ValueError:
        toleration = None
    if not isinstance(toleration, dict) or not isinstance(toleration.get("key"), str):
        raise env.MissingEnvironment(
            f"{env.GPU_TOLERATION}={value!r} is not a JSON toleration such as "
            '{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", '
            '"effect": "NoSchedule"}'
        )
    return {str(k): str(v) for k, v in toleration.items()}


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(prog="python -m pdk_assets.deploy", description=__doc__)
    parsed.add_argument("--example", type=Path, default=Path(env.EXAMPLE_PATH))
    parsed.add_argument("--model-info", type=Path, required=True)
    parsed.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait until the InferenceService is Ready and print its URL (default: wait)",
    )
    parsed.add_argument("--timeout", type=float, default=600, help="seconds --wait waits")
    return parsed


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        manifest = load_manifest(arguments.example)
        values = env.require(
            (
                env.DET_MASTER,
                env.DET_USER,
                env.DET_PASSWORD,
                env.KSERVE_NAMESPACE,
                env.MODEL_BUCKET,
                env.STORAGE_KIND,
                env.DEPLOYMENT_ID,
            )
        )
        from pdk_assets.kserve import KubernetesApi
        from pdk_assets.mlde import DeterminedMlde
        from pdk_assets.storage import store_for

        store = store_for(
            values[env.STORAGE_KIND],
            os.environ.get(env.STORAGE_ENDPOINT, ""),
            os.environ.get(env.STORAGE_REGION, ""),
        )
        mlde = DeterminedMlde(
            values[env.DET_MASTER], values[env.DET_USER], values[env.DET_PASSWORD]
        )
        target = DeployTarget(
            bucket=values[env.MODEL_BUCKET],
            namespace=values[env.KSERVE_NAMESPACE],
            service_account=os.environ.get(
                env.KSERVE_SERVICE_ACCOUNT, env.DEFAULT_KSERVE_SERVICE_ACCOUNT
            ),
            wait_timeout_s=arguments.timeout,
            deployment_id=values[env.DEPLOYMENT_ID],
            gpu_toleration=gpu_toleration_from(os.environ.get(env.GPU_TOLERATION, "")),
        )
        with tempfile.TemporaryDirectory(prefix="pdk-deploy-") as workdir:
            run_deploy(
                manifest,
                arguments.model_info,
                mlde,
                store,
                KubernetesApi(),
                target,
                wait=arguments.wait,
                workdir=Path(workdir),
            )
    except (
        ManifestError,
        ModelInfoError,
        CheckpointError,
        StorageError,
        DeployError,
        env.MissingEnvironment,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
