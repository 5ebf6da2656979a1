"""A Kubernetes API client for a deployed stack, from what the stack itself says."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from infra.config.types import PROJECT
from infra.ops.errors import EXIT_FAILED, OpsError


def api_client(outputs: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """The stack's ``kubeconfig`` output (cloud targets create the cluster), else its
    ``kubeconfig`` config key, else the ambient kubeconfig; ``kubeContext`` when set."""
    from kubernetes import config as kube_config

    context = config.get(f"{PROJECT}:kubeContext") or None
    text = outputs.get("kubeconfig") or config.get(f"{PROJECT}:kubeconfig")
    try:
        if text:
            return kube_config.new_client_from_config_dict(
                yaml.safe_load(str(text)), context=context
            )
        return kube_config.new_client_from_config(context=context)
    except Exception as error:  # ConfigException, missing file, bad YAML
        raise OpsError(
            f"cannot build a Kubernetes client for the stack: {error}", EXIT_FAILED
        ) from None
