"""Pod-spec pieces shared by the components that run their own containers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.naming import Naming
from infra.sizing import resources

SETUP_JOB = resources("setup-job", "standard")
"""Setup scripts (psql, mc) are small and short; one size fits every stack."""


def restricted_container() -> k8s.core.v1.SecurityContextArgs:
    """The container half of the 'restricted' Pod Security Standard."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def secret_env(name: str, secret: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    """An environment variable read from a key of a Secret (``secret`` is its name input)."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)
        ),
    )


def single_replica_statefulset(
    resource_name: str,
    *,
    naming: Naming,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    service_name: pulumi.Input[str],
    run_as: int,
    data_mount: str,
    storage_size: str,
    storage_class: str,
    container: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.StatefulSet:
    """One pod with one container and one ``data`` volume: the shape of every in-cluster server.

    ``container`` holds the ``ContainerArgs`` fields (name, image, env, ports, probes, ...); the
    data mount and the restricted security context are added here. The pod runs as ``run_as``
    with that group as fsGroup, so the volume is writable without a root entrypoint. Protected,
    and its volume kept on deletion, unless the stack is ephemeral.
    """
    retention = "Delete" if naming.ephemeral else "Retain"
    return k8s.apps.v1.StatefulSet(
        resource_name,
        metadata=naming.metadata(name, namespace, labels),
        spec=k8s.apps.v1.StatefulSetSpecArgs(
            service_name=service_name,
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels)),
            persistent_volume_claim_retention_policy=(
                k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted=retention, when_scaled=retention
                )
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={**naming.labels, **labels}),
                spec=k8s.core.v1.PodSpecArgs(
                    # Servers (Postgres, MinIO) never call the Kubernetes API.
                    automount_service_account_token=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_user=run_as,
                        run_as_group=run_as,
                        fs_group=run_as,
                        run_as_non_root=True,
                    ),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            **container,
                            volume_mounts=[
                                k8s.core.v1.VolumeMountArgs(name="data", mount_path=data_mount)
                            ],
                            security_context=restricted_container(),
                        )
                    ],
                ),
            ),
            volume_claim_templates=[
                k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=naming.labels),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=storage_class or None,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                            requests={"storage": storage_size}
                        ),
                    ),
                )
            ],
        ),
        opts=naming.stateful(opts),
    )


def setup_job(
    resource_name: str,
    *,
    naming: Naming,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    run_as: int,
    container_name: str,
    image: str,
    script: str,
    env: Sequence[k8s.core.v1.EnvVarArgs],
    opts: pulumi.ResourceOptions,
    scratch: str | None = None,
    config_maps: Mapping[str, pulumi.Input[str]] | None = None,
    deadline_seconds: int | None = None,
) -> k8s.batch.v1.Job:
    """A Job that runs ``script`` with ``/bin/sh`` until it succeeds (six retries).

    Auto-named, so a changed script replaces the Job instead of failing on its immutable pod
    template; scripts must therefore be safe to run again. ``scratch`` mounts an empty folder
    there, for clients that need somewhere to write. ``config_maps`` mounts ConfigMaps
    read-only (mount path -> ConfigMap name). ``deadline_seconds`` bounds the whole Job, retries
    included, so a setup that cannot succeed fails instead of blocking the deployment.
    """
    mounts: list[k8s.core.v1.VolumeMountArgs] = []
    volumes: list[k8s.core.v1.VolumeArgs] = []
    if scratch:
        mounts.append(k8s.core.v1.VolumeMountArgs(name="scratch", mount_path=scratch))
        volumes.append(
            k8s.core.v1.VolumeArgs(name="scratch", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())
        )
    for index, (path, config_map) in enumerate(sorted((config_maps or {}).items())):
        name = f"config-{index}"
        mounts.append(k8s.core.v1.VolumeMountArgs(name=name, mount_path=path, read_only=True))
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name=name, config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map)
            )
        )
    return k8s.batch.v1.Job(
        resource_name,
        metadata=naming.metadata(
            None, namespace, {**labels, "app.kubernetes.io/component": "setup"}
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=6,
            active_deadline_seconds=deadline_seconds,
            template=k8s.core.v1.PodTemplateSpecArgs(
                # The pod carries the Job's labels too: NetworkPolicies admit setup pods by them.
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels={**naming.labels, **labels, "app.kubernetes.io/component": "setup"}
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="OnFailure",
                    # Setup scripts talk to Postgres or MinIO, never to the Kubernetes API.
                    automount_service_account_token=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_user=run_as, run_as_group=run_as, run_as_non_root=True
                    ),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name=container_name,
                            image=image,
                            command=["/bin/sh", "-c"],
                            args=[script],
                            env=list(env),
                            volume_mounts=mounts or None,
                            resources=SETUP_JOB.args(),
                            security_context=restricted_container(),
                        )
                    ],
                    volumes=volumes or None,
                ),
            ),
        ),
        opts=opts,
    )
