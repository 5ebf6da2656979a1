"""The container environment contract: what a pipeline spec gives the train and deploy
containers, and the exact command each runs.

The stack's pipeline-spec builder imports these names, and the containers read the same names,
so the two cannot drift apart (the guides mapped ``pac_token`` to ``PAC_TOKEN`` while the code
read ``PACH_TOKEN``; here both sides use ``PACH_TOKEN`` from one constant).

Secret values come from the Kubernetes Secret ``pipeline-secret`` (``SECRET_ENV`` maps each key
to its variable); the others are plain values in the pipeline spec (``PDK_*``) or set by
Pachyderm on every worker (``PPS_*``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pdk_assets.manifest import ExampleManifest

PIPELINE_SECRET = "pipeline-secret"
"""Kubernetes Secret (namespace ``default``) holding the values in ``SECRET_ENV``."""

DET_MASTER = "DET_MASTER"
"""MLDE master URL, e.g. ``http://mlde.default.svc:8080`` (secret key ``det_master``)."""
DET_USER = "DET_USER"
"""MLDE user the pipelines log in as (secret key ``det_user``)."""
DET_PASSWORD = "DET_PASSWORD"
"""Its password (secret key ``det_password``)."""
PACH_TOKEN = "PACH_TOKEN"
"""MLDM auth token; empty when MLDM auth is off (secret key ``pac_token``)."""
PACHD_HOST = "PACHD_LB_SERVICE_HOST"
"""MLDM pachd host the MLDE trials download data from (secret key ``pachd_lb_service_host``)."""
PACHD_PORT = "PACHD_LB_SERVICE_PORT"
"""MLDM pachd gRPC port (secret key ``pachd_lb_service_port``)."""
KSERVE_NAMESPACE = "KSERVE_NAMESPACE"
"""Namespace of the InferenceServices (secret key ``kserve_namespace``)."""

SECRET_ENV: dict[str, str] = {
    "det_master": DET_MASTER,
    "det_user": DET_USER,
    "det_password": DET_PASSWORD,
    "pac_token": PACH_TOKEN,
    "pachd_lb_service_host": PACHD_HOST,
    "pachd_lb_service_port": PACHD_PORT,
    "kserve_namespace": KSERVE_NAMESPACE,
}
"""``pipeline-secret`` key → environment variable, for the pipeline spec's ``secrets`` list."""

MODEL_BUCKET = "PDK_MODEL_BUCKET"
"""Bucket of the KServe model assets (``<model>/config/``, ``<model>/model-store/``)."""
STORAGE_KIND = "PDK_STORAGE_KIND"
"""Object store API: ``s3``, ``gcs`` or ``minio``."""
STORAGE_ENDPOINT = "PDK_STORAGE_ENDPOINT"
"""S3-compatible endpoint URL for ``minio``; empty for AWS S3 and GCS."""
STORAGE_REGION = "PDK_STORAGE_REGION"
"""Bucket region (MinIO accepts any; by convention ``us-east-1``)."""
KSERVE_SERVICE_ACCOUNT = "PDK_KSERVE_SERVICE_ACCOUNT"
"""Service account InferenceServices run as to read the model bucket; default
``kserve-models``."""
GPU_TOLERATION = "PDK_GPU_TOLERATION"
"""The stack's GPU node taint as a Kubernetes toleration, JSON (``{"key": "nvidia.com/gpu",
"operator": "Equal", "value": "present", "effect": "NoSchedule"}`` by default): what a
predictor with ``serving.gpu_toleration`` tolerates."""
DEPLOYMENT_ID = "PDK_DEPLOYMENT_ID"
"""The stack's deployment id; InferenceServices carry it as ``DEPLOYMENT_LABEL``, so the
stack's ``findResourcesCommand`` finds them with everything else."""
DEPLOYMENT_LABEL = "pdk-deployer/deployment-id"
"""The label every object of a deployment carries (``infra.naming.DEPLOYMENT_LABEL``, which a
test holds equal; ``pdk_assets`` does not import ``infra``)."""
PLAIN_ENV = (
    MODEL_BUCKET,
    STORAGE_KIND,
    STORAGE_ENDPOINT,
    STORAGE_REGION,
    KSERVE_SERVICE_ACCOUNT,
    GPU_TOLERATION,
    DEPLOYMENT_ID,
)
"""The non-secret variables the pipeline spec sets (the deploy container reads them)."""

JOB_ID = "PPS_JOB_ID"
"""Set by MLDM on every worker: the job (and commit set) id being processed."""
PIPELINE_NAME = "PPS_PIPELINE_NAME"
"""Set by MLDM on every worker: the pipeline's name."""

DEFAULT_KSERVE_SERVICE_ACCOUNT = "kserve-models"
STORAGE_KINDS = ("s3", "gcs", "minio")

EXAMPLE_PATH = "/pdk/example"
"""Where the images bake ``examples/<EXAMPLE>`` (build arg ``EXAMPLE``)."""
OUTPUT_DIR = "/pfs/out"
"""A pipeline's output directory; the train container writes ``model-info.yaml`` here."""
MODEL_INFO_FILE = "model-info.yaml"


@dataclass(frozen=True)
class GitSource:
    """Experiment code from git instead of the baked example (the guides' mode)."""

    url: str
    """Clone URL, e.g. ``https://github.com/acme/pdk-examples.git``."""
    ref: str = "main"
    """Branch, tag or commit to check out; default ``main``."""
    subdir: str = "."
    """Example folder (holding ``example.yaml``) inside the repository; default the root."""


def train_command(manifest: ExampleManifest, *, git: GitSource | None = None) -> list[str]:
    """The train pipeline's ``transform.cmd``: trains on the commit of ``manifest.mldm.repo``
    mounted at ``/pfs/<repo>`` and writes ``/pfs/out/model-info.yaml``."""
    command = [
        "python",
        "-m",
        "pdk_assets.train",
        "--example",
        EXAMPLE_PATH,
        "--input",
        f"/pfs/{manifest.mldm.repo}",
        "--output",
        OUTPUT_DIR,
    ]
    if git is not None:
        command += ["--git-url", git.url, "--git-ref", git.ref, "--git-subdir", git.subdir]
    return command


def deploy_command(manifest: ExampleManifest, *, wait: bool = True) -> list[str]:
    """The deploy pipeline's ``transform.cmd``: serves the model named by the train pipeline's
    ``model-info.yaml`` (its output repo is mounted at ``/pfs/<train pipeline>``)."""
    return [
        "python",
        "-m",
        "pdk_assets.deploy",
        "--example",
        EXAMPLE_PATH,
        "--model-info",
        f"/pfs/{manifest.mldm.train_pipeline}/{MODEL_INFO_FILE}",
        "--wait" if wait else "--no-wait",
    ]


class MissingEnvironment(RuntimeError):
    """A variable the container needs is unset; the message names every missing one."""


def require(names: tuple[str, ...], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values of ``names``; raises ``MissingEnvironment`` listing all missing ones.
    An empty value counts as set (``PACH_TOKEN`` is empty without MLDM auth)."""
    environ = os.environ if environ is None else environ
    missing = [name for name in names if name not in environ]
    if missing:
        raise MissingEnvironment(
            f"environment variable(s) {', '.join(missing)} not set; the pipeline spec must map "
            f"them from Secret {PIPELINE_SECRET!r} or set them (see pdk_assets/env.py)"
        )
    return {name: environ[name] for name in names}
