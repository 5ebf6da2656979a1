"""The PDK wiring: what the flow's pipelines and users read to find and use the platform.

- ``pdk-config`` (ConfigMap, ``default``): every endpoint and name, one key set on every
  target, and never a credential (the guides put passwords next to endpoints).
- ``pipeline-secret`` (Secret, ``default``): the credentials pipelines map to environment
  variables, filled from Pulumi secrets.
- RBAC letting MLDM's workers manage InferenceServices, in the models namespace only.
- The models-namespace service account KServe's storage initializer pulls models with: cloud
  identity annotations where the target has them, an S3 key Secret where it uses keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import WORKLOAD_SERVICE_ACCOUNTS, TargetContract
from infra.naming import Naming
from infra.platform.endpoints import Endpoint, host_and_port
from infra.platform.values import WORKER_SERVICE_ACCOUNT, database_host

CONFIG_MAP = "pdk-config"
PIPELINE_SECRET = "pipeline-secret"
MODELS_SERVICE_ACCOUNT = WORKLOAD_SERVICE_ACCOUNTS["kserve"][0].name
"""InferenceServices in the models namespace run as this account to read the model bucket."""
MODELS_S3_SECRET = "kserve-models-s3"
PIPELINE_SECRET_KEYS = (
    "det_master",
    "det_user",
    "det_password",
    "pac_token",
    "pachd_lb_service_host",
    "pachd_lb_service_port",
    "kserve_namespace",
)
"""The keys the PDK pipeline specs map to environment variables."""
ISVC_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]


@dataclass(frozen=True)
class PdkWiringArgs:
    naming: Naming
    """The stack's naming rules."""
    contract: TargetContract
    """The target's buckets, database, registry and storage identities."""
    mldm: Endpoint
    """MLDM's gRPC endpoint (pachd)."""
    mldm_s3: Endpoint
    """MLDM's S3 gateway."""
    mlde: Endpoint
    """The MLDE master's REST endpoint."""
    kserve_ingress: Endpoint
    """Where requests to models enter the cluster."""
    kserve_domain: str
    """Domain of model host names."""
    models_namespace: str
    """Namespace of InferenceServices."""
    mlde_user: str
    """The MLDE user pipelines log in as."""
    mlde_password: pulumi.Output[str]
    """Its password (a Pulumi secret)."""
    mldm_token: pulumi.Output[str]
    """MLDM's root token (a Pulumi secret): pipelines call pachd with it."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Namespaces and releases these objects refer to."""


class PdkWiring(pulumi.ComponentResource):
    """``pdk-config``, ``pipeline-secret``, the InferenceService RBAC and KServe's storage
    identity."""

    config_map: k8s.core.v1.ConfigMap
    pipeline_secret: k8s.core.v1.Secret
    models_service_account: k8s.core.v1.ServiceAccount

    def __init__(self, name: str, args: PdkWiringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:PdkWiring", name, None, opts)
        naming, contract = args.naming, args.contract
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        store, postgres = contract.object_store, contract.postgres
        labels = {"app.kubernetes.io/component": "pdk-wiring"}

        data: Mapping[str, pulumi.Input[str]] = {
            "pdk_name": naming.deployment_id,
            "cluster_name": contract.cluster_name,
            "region": store.region,
            "object_store_kind": store.kind,
            "object_store_endpoint": store.endpoint,
            "mldm_bucket_name": store.buckets.mldm,
            "mlde_bucket_name": store.buckets.checkpoints,
            "model_assets_bucket_name": store.buckets.models,
            "mldm_host": args.mldm.host,
            "mldm_port": str(args.mldm.port),
            "mldm_url": args.mldm.url,
            "mldm_s3_gateway": f"{args.mldm_s3.host}:{args.mldm_s3.port}",
            "mlde_host": args.mlde.host,
            "mlde_port": str(args.mlde.port),
            "mlde_url": args.mlde.url,
            "kserve_model_namespace": args.models_namespace,
            "kserve_service_account": MODELS_SERVICE_ACCOUNT,
            "kserve_domain": args.kserve_domain,
            "kserve_ingress_host": args.kserve_ingress.host,
            "kserve_ingress_port": str(args.kserve_ingress.port),
            "db_host": database_host(postgres),
            "db_port": str(postgres.port),
            # No password: it lives in Secrets only.
            "db_connection_string": pulumi.Output.concat(
                "postgresql://",
                postgres.user,
                "@",
                database_host(postgres),
                ":",
                str(postgres.port),
                "/determined?sslmode=",
                postgres.sslmode,
            ),
            "registry_uri": contract.registry.url,
            "shared_claim": contract.shared_fs.claim_name,
            "shared_mount_path": contract.shared_fs.mount_path,
        }
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=naming.metadata(CONFIG_MAP, "default", labels),
            data=data,
            opts=child,
        )
        self.pipeline_secret = k8s.core.v1.Secret(
            f"{name}-pipeline-secret",
            metadata=naming.metadata(PIPELINE_SECRET, "default", labels),
            type="Opaque",
            string_data={
                "det_master": args.mlde.url,
                "det_user": args.mlde_user,
                "det_password": args.mlde_password,
                # MLDM auth is on: the train pipeline reads its data commit with this token.
                "pac_token": args.mldm_token,
                "pachd_lb_service_host": args.mldm.host,
                "pachd_lb_service_port": str(args.mldm.port),
                "kserve_namespace": args.models_namespace,
            },
            opts=child,
        )

        # A Role in the models namespace, not the guides' ClusterRole: workers deploy models
        # there and nowhere else.
        role = k8s.rbac.v1.Role(
            f"{name}-isvc-role",
            metadata=naming.metadata("pdk-inferenceservice-manager", args.models_namespace, labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["serving.kserve.io"],
                    resources=["inferenceservices", "inferenceservices/status"],
                    verbs=ISVC_VERBS,
                )
            ],
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-isvc-binding",
            metadata=naming.metadata("pdk-inferenceservice-manager", args.models_namespace, labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=WORKER_SERVICE_ACCOUNT, namespace="default"
                )
            ],
            opts=child,
        )

        access = contract.storage_access["kserve"]
        secrets: list[k8s.core.v1.ObjectReferenceArgs] = []
        if access.access_key_id_value is not None and access.secret_access_key_value is not None:
            # KServe's storage initializer reads these key names and annotations
            # (https://kserve.github.io/website/latest/modelserving/storage/s3/s3/).
            s3_secret = k8s.core.v1.Secret(
                f"{name}-models-s3",
                metadata=naming.metadata(
                    MODELS_S3_SECRET,
                    args.models_namespace,
                    labels,
                    {
                        "serving.kserve.io/s3-endpoint": host_and_port(store.endpoint),
                        "serving.kserve.io/s3-usehttps": "1" if store.secure else "0",
                        "serving.kserve.io/s3-region": store.region,
                    },
                ),
                type="Opaque",
                string_data={
                    "AWS_ACCESS_KEY_ID": access.access_key_id_value,
                    "AWS_SECRET_ACCESS_KEY": access.secret_access_key_value,
                },
                opts=child,
            )
            secrets.append(k8s.core.v1.ObjectReferenceArgs(name=s3_secret.metadata.name))
        self.models_service_account = k8s.core.v1.ServiceAccount(
            f"{name}-models-sa",
            metadata=naming.metadata(
                MODELS_SERVICE_ACCOUNT,
                args.models_namespace,
                labels,
                access.service_account_annotations or None,
            ),
            secrets=secrets or None,
            opts=child,
        )
        self.register_outputs(
            {
                "configMap": self.config_map.metadata.name,
                "pipelineSecret": self.pipeline_secret.metadata.name,
                "modelsServiceAccount": self.models_service_account.metadata.name,
            }
        )
