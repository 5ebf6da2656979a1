"""The InferenceService: its manifest, built from the example, and the Kubernetes boundary that
creates or replaces it and waits for it to be Ready. ``KubeApi`` is the Protocol tests fake;
``KubernetesApi`` implements it with the kubernetes client's ``CustomObjectsApi``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from pdk_assets.env import DEPLOYMENT_LABEL
from pdk_assets.manifest import ExampleManifest

GROUP = "serving.kserve.io"
VERSION = "v1beta1"
PLURAL = "inferenceservices"
JOB_ANNOTATION = "pdk.hpe.com/mldm-job-id"
"""Annotation holding the MLDM job that deployed the current model version; changing it on
each deploy also makes KServe roll out a new revision."""
MODEL_VERSION_ANNOTATION = "pdk.hpe.com/model-version"


class DeployError(RuntimeError):
    """The InferenceService could not be created or did not become Ready."""


class KubeApi(Protocol):
    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The InferenceService, or None when it does not exist."""

    def create(self, namespace: str, body: dict[str, Any]) -> None: ...

    def replace(self, namespace: str, name: str, body: dict[str, Any]) -> None: ...


def inference_service(
    manifest: ExampleManifest,
    *,
    namespace: str,
    storage_uri: str,
    service_account: str,
    job_id: str,
    model_version: int,
    deployment_id: str,
    gpu_toleration: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The v1beta1 InferenceService serving the example's model with TorchServe (protocol v1),
    labelled with the stack's ``deployment_id``. ``gpu_toleration``: the stack's GPU taint as a
    toleration, required when the manifest asks for one (``serving.gpu_toleration``)."""
    serving = manifest.serving
    predictor: dict[str, Any] = {
        "serviceAccountName": service_account,
        "pytorch": {
            "protocolVersion": "v1",
            "storageUri": storage_uri,
            "resources": {
                "requests": dict(serving.resources.requests),
                "limits": dict(serving.resources.limits),
            },
        },
    }
    if serving.gpu_toleration:
        if not gpu_toleration:
            raise DeployError(
                f"serving.gpu_toleration is set in {manifest.name}/example.yaml but the stack "
                "passed no GPU taint (PDK_GPU_TOLERATION); set the stack's gpuTaint"
            )
        predictor["tolerations"] = [dict(gpu_toleration)]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "InferenceService",
        "metadata": {
            "name": serving.inference_service,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/part-of": "pdk",
                "pdk.hpe.com/example": manifest.name,
                DEPLOYMENT_LABEL: deployment_id,
            },
            "annotations": {
                JOB_ANNOTATION: job_id,
                MODEL_VERSION_ANNOTATION: str(model_version),
            },
        },
        "spec": {"predictor": predictor},
    }


def apply(api: KubeApi, body: dict[str, Any]) -> str:
    """Creates the service, or replaces it keeping its resourceVersion; returns the verb."""
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    current = api.get(namespace, name)
    if current is None:
        api.create(namespace, body)
        return "created"
    replacement = {
        **body,
        "metadata": {
            **body["metadata"],
            "resourceVersion": current["metadata"]["resourceVersion"],
        },
    }
    api.replace(namespace, name, replacement)
    return "replaced"


def ready_url(service: dict[str, Any]) -> str | None:
    """The service's URL once its Ready condition is True, else None."""
    status = service.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return str(status.get("url") or "")
    return None


def wait_ready(
    api: KubeApi,
    namespace: str,
    name: str,
    *,
    timeout_s: float = 600,
    interval_s: float = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Polls until the service is Ready; returns its URL or raises ``DeployError``."""
    waited = 0.0
    while True:
        service = api.get(namespace, name)
        url = ready_url(service) if service else None
        if url is not None:
            return url
        if waited >= timeout_s:
            reasons = [
                f"{c.get('type')}: {c.get('message') or c.get('reason')}"
                for c in ((service or {}).get("status") or {}).get("conditions") or []
                if c.get("status") != "True"
            ]
            raise DeployError(
                f"InferenceService {namespace}/{name} not Ready after {timeout_s:.0f}s"
                + (f" ({'; '.join(reasons)})" if reasons else "")
                + f"; see `kubectl -n {namespace} describe inferenceservice {name}`"
            )
        sleep(interval_s)
        waited += interval_s


class KubernetesApi:
    """``KubeApi`` over ``kubernetes.client.CustomObjectsApi`` (in-cluster config in a
    pipeline worker, the kubeconfig elsewhere)."""

    def __init__(self) -> None:
        from kubernetes import client, config

        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        self._api = client.CustomObjectsApi()

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            found: dict[str, Any] = self._api.get_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise DeployError(f"reading InferenceService {namespace}/{name}: {error}") from None
        return found

    def create(self, namespace: str, body: dict[str, Any]) -> None:
        self._api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)

    def replace(self, namespace: str, name: str, body: dict[str, Any]) -> None:
        self._api.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)
