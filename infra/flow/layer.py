"""The flow layer: one example's images, MLDM project, repo and pipelines, and MLDE
workspace and project, declared on top of the platform.

Committing data to the example's repo runs the train pipeline (MLDE trains and registers the
model), whose output runs the deploy pipeline (TorchServe archive uploaded to the models
bucket, InferenceService created or replaced). Both pipelines run images built from this
checkout, tagged by content, so changing the training code and running ``pulumi up`` rebuilds
the image and updates the pipeline that uses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from infra.config.stack import StackConfig
from infra.contract import TargetContract
from infra.flow.images import FlowImages, FlowImagesArgs, RegistryAuth
from infra.flow.pipelines import PfsInput, PipelineSpecArgs, SecretEnv
from infra.flow.providers import (
    MldeConnection,
    MldeProject,
    MldeProjectArgs,
    MldeWorkspace,
    MldeWorkspaceArgs,
    MldmConnection,
    MldmPipeline,
    MldmPipelineArgs,
    MldmProject,
    MldmProjectArgs,
    MldmRepo,
    MldmRepoArgs,
)
from infra.naming import Naming
from infra.platform.layer import PlatformResult
from pdk_assets import env as container_env
from pdk_assets.manifest import EXAMPLES_DIR, ExampleManifest, load_manifest


def pipeline_env(contract: TargetContract, naming: Naming) -> dict[str, pulumi.Input[str]]:
    """Plain settings both containers read (no credentials), the stack's cluster parameters
    among them: its GPU taint (as a toleration) and deployment id."""
    store = contract.object_store
    return {
        container_env.GPU_TOLERATION: json.dumps(contract.nodes.gpu_toleration, sort_keys=True),
        container_env.DEPLOYMENT_ID: naming.deployment_id,
        container_env.MODEL_BUCKET: store.buckets.models,
        container_env.STORAGE_KIND: store.kind,
        # boto3 and the GCS client find AWS's and Google's endpoints themselves.
        container_env.STORAGE_ENDPOINT: store.endpoint if store.kind == "minio" else "",
        container_env.STORAGE_REGION: store.region,
        container_env.KSERVE_SERVICE_ACCOUNT: container_env.DEFAULT_KSERVE_SERVICE_ACCOUNT,
    }


def storage_secrets(contract: TargetContract) -> list[SecretEnv]:
    """Object-store keys for the deploy step's upload, on targets whose workloads use keys.

    Cloud targets give MLDM's workers a role (IRSA, Workload Identity) and need none; on MinIO
    the deploy step uploads with the target's models-bucket writer, whose keys reach no other
    bucket (MLDM's own keys reach all three)."""
    access = contract.models_writer
    if access is None or access.access_key_id is None or access.secret_access_key is None:
        return []
    return [
        SecretEnv(access.access_key_id.name, access.access_key_id.key, "AWS_ACCESS_KEY_ID"),
        SecretEnv(
            access.secret_access_key.name, access.secret_access_key.key, "AWS_SECRET_ACCESS_KEY"
        ),
    ]


def pipeline_specs(
    manifest: ExampleManifest, contract: TargetContract, *, autoscaling: bool = True
) -> tuple[PipelineSpecArgs, PipelineSpecArgs]:
    """(train, deploy) pipeline arguments of an example on a target, from one builder.
    ``autoscaling`` (``flowAutoscaling``): workers scale to zero between jobs.

    The target's settings (``pipeline_env``) are added when the image is known, since some
    are only known at deploy time (a generated bucket name)."""
    mldm = manifest.mldm
    train = PipelineSpecArgs(
        name=mldm.train_pipeline,
        project=mldm.project,
        description=f"Trains {manifest.mlde.model} in MLDE on each commit to {mldm.repo}",
        cmd=container_env.train_command(manifest),
        # The train step reads file names only; MLDE's trial downloads the commit itself.
        input=PfsInput(repo=mldm.repo, project=mldm.project, glob="/", empty_files=True),
        secret_env=container_env.SECRET_ENV,
        # A failed training is a failed job; retrying would start a second experiment.
        datum_tries=1,
        autoscaling=autoscaling,
    )
    deploy = PipelineSpecArgs(
        name=mldm.deploy_pipeline,
        project=mldm.project,
        description=f"Serves each new version of {manifest.mlde.model} on KServe",
        cmd=container_env.deploy_command(manifest, wait=True),
        input=PfsInput(repo=mldm.train_pipeline, project=mldm.project, glob="/"),
        secret_env=container_env.SECRET_ENV,
        other_secrets=storage_secrets(contract),
        datum_tries=1,
        autoscaling=autoscaling,
    )
    return train, deploy


@dataclass(frozen=True)
class FlowArgs:
    naming: Naming
    """The stack's naming rules (the data repo is protected unless ephemeral)."""
    config: StackConfig
    """The validated stack config; this layer reads ``flow``."""
    contract: TargetContract
    platform: PlatformResult


class Flow(pulumi.ComponentResource):
    """Images, MLDM objects and MLDE objects of one example."""

    def __init__(self, name: str, args: FlowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:flow:Flow", name, None, opts)
        flow, contract, platform = args.config.flow, args.contract, args.platform
        manifest = load_manifest(EXAMPLES_DIR / flow.example)
        child = pulumi.ResourceOptions(parent=self)

        registry = contract.registry
        images = FlowImages(
            f"{name}-images",
            FlowImagesArgs(
                example=flow.example,
                registry=registry.url,
                auth=(
                    RegistryAuth(username=registry.username, password=registry.password)
                    if registry.username is not None and registry.password is not None
                    else None
                ),
            ),
            opts=child,
        )

        # Pulumi reaches MLDM and MLDE through the gateway, by host name (so the names must
        # resolve where `pulumi up` runs: DNS, or the resolveHosts command), trusting the
        # stack's CA; or at flowMldmAddress / flowMldeUrl (a port-forward on kind).
        if flow.mldm_address:
            host, _, port = flow.mldm_address.rpartition(":")
            mldm_host, mldm_port = host, int(port)
        else:
            mldm_host, mldm_port = platform.mldm_host, platform.gateway.port
        scheme = "https" if platform.tls else "http"
        mlde_url = flow.mlde_url.rstrip("/") or f"{scheme}://{platform.mlde_host}"
        ca: pulumi.Input[str] = platform.ca_certificate or ""
        mldm = MldmConnection(
            host=mldm_host, port=mldm_port, token=platform.mldm_token, tls=platform.tls, ca=ca
        )
        mlde = MldeConnection(
            master=mlde_url, user=platform.mlde_user, password=platform.mlde_password, ca=ca
        )
        # The platform's services must answer before their objects can be created.
        reachable = pulumi.ResourceOptions(parent=self, depends_on=platform.reachable)

        project = MldmProject(
            f"{name}-mldm-project",
            MldmProjectArgs(
                connection=mldm,
                project=manifest.mldm.project,
                description=manifest.description,
            ),
            opts=reachable,
        )
        repo = MldmRepo(
            f"{name}-mldm-repo",
            MldmRepoArgs(
                connection=mldm,
                project=project.project,
                repo=manifest.mldm.repo,
                description=f"Data of the {manifest.name} example",
            ),
            opts=args.naming.stateful(reachable),
        )
        workspace = MldeWorkspace(
            f"{name}-mlde-workspace",
            MldeWorkspaceArgs(connection=mlde, workspace=manifest.mlde.workspace),
            opts=reachable,
        )
        mlde_project = MldeProject(
            f"{name}-mlde-project",
            MldeProjectArgs(
                connection=mlde,
                workspace=workspace.workspace,
                project=manifest.mlde.project,
                description=manifest.description,
            ),
            opts=reachable,
        )

        env = pipeline_env(contract, args.naming)
        train_args, deploy_args = pipeline_specs(manifest, contract, autoscaling=flow.autoscaling)
        train = MldmPipeline(
            f"{name}-train-pipeline",
            MldmPipelineArgs(connection=mldm, spec=train_args, image=images.train_image, env=env),
            opts=pulumi.ResourceOptions.merge(
                reachable, pulumi.ResourceOptions(depends_on=[repo, mlde_project])
            ),
        )
        MldmPipeline(
            f"{name}-deploy-pipeline",
            MldmPipelineArgs(connection=mldm, spec=deploy_args, image=images.deploy_image, env=env),
            opts=pulumi.ResourceOptions.merge(
                reachable, pulumi.ResourceOptions(depends_on=[train])
            ),
        )
        self.register_outputs(
            {
                "trainImage": images.train_image,
                "deployImage": images.deploy_image,
                "project": manifest.mldm.project,
                "repo": manifest.mldm.repo,
            }
        )
