"""The target registry: one record per kind of place the platform runs.

The config loader, the program, the offline plan and the key table loop over ``TARGETS``;
nothing above a target names one. Adding a target is a folder ``infra/targets/<name>/`` (with
``config.py``, ``target.py`` and ``mocks.py``) and one line below (CONTRIBUTING.md has the
recipe). Only Pulumi-free modules are imported here; ``build`` is imported when it runs.
"""

from __future__ import annotations

from infra.targets.aws import config as aws_config
from infra.targets.aws import mocks as aws_mocks
from infra.targets.existing import config as existing_config
from infra.targets.gcp import config as gcp_config
from infra.targets.gcp import mocks as gcp_mocks
from infra.targets.spec import OfflineMocks, TargetSpec, lazy

__all__ = ["TARGETS", "OfflineMocks", "TargetSpec"]

TARGETS: dict[str, TargetSpec] = {
    spec.name: spec
    for spec in (
        TargetSpec(
            name="existing",
            summary="a Kubernetes cluster you already have (on-prem, kind, minikube).",
            section=existing_config.SECTION,
            build=lazy("infra.targets.existing.cluster:build"),
            provider_type="pulumi:providers:kubernetes",
            cleanup=lazy("infra.targets.existing.leaks:find_leaks"),
            preflight=lazy("infra.targets.existing.ops:preflight"),
            estimate=lazy("infra.targets.existing.ops:estimate_hooks"),
        ),
        TargetSpec(
            name="aws",
            summary="a new EKS cluster with its VPC, S3, RDS, EFS and ECR.",
            section=aws_config.SECTION,
            build=lazy("infra.targets.aws.target:build"),
            provider_type="pulumi:providers:aws",
            mocks=aws_mocks.MOCKS,
            plan_fields=aws_mocks.PLAN_FIELDS,
            cleanup=lazy("infra.targets.aws.leaks:find_leaks"),
            preflight=lazy("infra.targets.aws.ops:preflight"),
            estimate=lazy("infra.targets.aws.ops:estimate_hooks"),
        ),
        TargetSpec(
            name="gcp",
            summary="a new GKE cluster with its VPC, Cloud SQL, GCS, Filestore and Artifact "
            "Registry.",
            section=gcp_config.SECTION,
            build=lazy("infra.targets.gcp.target:build"),
            provider_type="pulumi:providers:gcp",
            mocks=gcp_mocks.MOCKS,
            plan_fields=gcp_mocks.PLAN_FIELDS,
            cleanup=lazy("infra.targets.gcp.leaks:find_leaks"),
            preflight=lazy("infra.targets.gcp.ops:preflight"),
            estimate=lazy("infra.targets.gcp.ops:estimate_hooks"),
        ),
    )
}
"""Every target, by name, in the order the docs list them."""
