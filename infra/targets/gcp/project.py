"""The project side of the GCP target: label translation and the APIs the stack enables."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

SERVICES = (
    "compute.googleapis.com",
    "container.googleapis.com",
    # Private Service Access, which gives Cloud SQL its private IP.
    "servicenetworking.googleapis.com",
    # Cloud SQL itself, and the Auth Proxy's certificate calls.
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
    "artifactregistry.googleapis.com",
    # Filestore.
    "file.googleapis.com",
    "iam.googleapis.com",
    # Workload Identity exchanges a pod's token for its Google service account's through it.
    "iamcredentials.googleapis.com",
)
"""APIs the stack enables. cloudresourcemanager and serviceusage must already be on: the
provider uses them to enable these (README, prerequisites)."""


def _label_part(text: str, limit: int = 63) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:limit]


def gcp_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The stack's label set in GCP's alphabet: keys and values hold only lowercase letters,
    digits, ``_`` and ``-`` (at most 63), and keys start with a letter. ``/`` and ``.`` become
    ``-``: ``pdk-deployer/stack`` is ``pdk-deployer-stack`` here."""
    translated: dict[str, str] = {}
    for key, value in labels.items():
        gcp_key = _label_part(key)
        if not gcp_key[:1].isalpha():
            gcp_key = f"k{gcp_key}"[:63]
        translated[gcp_key] = _label_part(value)
    return translated


@dataclass(frozen=True)
class ProjectApisArgs:
    services: Sequence[str] = SERVICES
    """API service names to enable."""


class ProjectApis(pulumi.ComponentResource):
    """Enables the project's APIs; every other GCP resource of the stack waits for this
    component. Destroying the stack leaves them on (``disable_on_destroy=False``): other
    stacks in the project may use them."""

    services: list[gcp.projects.Service]

    def __init__(
        self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:gcp:ProjectApis", name, None, opts)
        self.services = [
            gcp.projects.Service(
                f"{name}-{service.split('.', 1)[0]}",
                service=service,
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for service in args.services
        ]
        self.register_outputs({"services": list(args.services)})
