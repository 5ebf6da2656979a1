"""Stack output names: the contract between this program, its tests and its users' scripts.

``pulumi stack output <NAME>`` reads them; tests and the CLI import these constants instead of
repeating strings.
"""

from __future__ import annotations

import pulumi

from infra.contract import TargetContract
from infra.naming import DEPLOYMENT_LABEL, Naming
from infra.platform.kserve import NAMESPACE as MODELS_WEB_APP_NAMESPACE
from infra.platform.layer import PlatformResult
from infra.platform.models_web_app import NAME as MODELS_WEB_APP
from infra.platform.wiring import PIPELINE_SECRET

TARGET = "target"
DEPLOYMENT_ID = "deploymentId"
NAMESPACES = "namespaces"
OBJECT_STORE = "objectStore"
BUCKETS = "buckets"
POSTGRES = "postgres"
SHARED_FILESYSTEM = "sharedFilesystem"
REGISTRY = "registry"
KUBECONFIG = "kubeconfig"
FIND_RESOURCES = "findResourcesCommand"
COMMANDS = "commands"
MLDM = "mldm"
MLDE = "mlde"
KSERVE = "kserve"

ALL = (
    TARGET,
    DEPLOYMENT_ID,
    NAMESPACES,
    OBJECT_STORE,
    BUCKETS,
    POSTGRES,
    SHARED_FILESYSTEM,
    REGISTRY,
    FIND_RESOURCES,
    COMMANDS,
    MLDM,
    MLDE,
    KSERVE,
)


def export_target(contract: TargetContract, naming: Naming) -> None:
    """Exports what a user needs to find and reach the target's pieces. No secret values."""
    store = contract.object_store
    pulumi.export(TARGET, contract.name)
    pulumi.export(DEPLOYMENT_ID, naming.deployment_id)
    pulumi.export(NAMESPACES, sorted(contract.namespaces))
    pulumi.export(
        OBJECT_STORE, {"kind": store.kind, "endpoint": store.endpoint, "region": store.region}
    )
    pulumi.export(
        BUCKETS,
        {
            "mldm": store.buckets.mldm,
            "checkpoints": store.buckets.checkpoints,
            "models": store.buckets.models,
        },
    )
    pulumi.export(
        POSTGRES,
        {
            "host": contract.postgres.host,
            "port": contract.postgres.port,
            "user": contract.postgres.user,
            "databases": list(contract.postgres.databases),
        },
    )
    pulumi.export(
        SHARED_FILESYSTEM,
        {
            "claim": contract.shared_fs.claim_name,
            "namespaces": list(contract.shared_fs.namespaces),
            "mountPath": contract.shared_fs.mount_path,
        },
    )
    pulumi.export(REGISTRY, contract.registry.url)
    if contract.kubeconfig is not None:
        # A secret: it carries no credential (it runs `aws eks get-token`), but it names and
        # locates the cluster, and the rule is simpler than the exception.
        pulumi.export(KUBECONFIG, pulumi.Output.secret(contract.kubeconfig))
    pulumi.export(
        FIND_RESOURCES,
        # InferenceServices are not in "all"; the flow's deploy step labels them too.
        "kubectl get all,pvc,pv,secrets,configmaps,inferenceservices.serving.kserve.io -A "
        f"-l {DEPLOYMENT_LABEL}={naming.deployment_id}",
    )


def export_platform(contract: TargetContract, platform: PlatformResult) -> None:
    """Exports where MLDM, MLDE and KServe are, and ready-to-run commands for each.

    External addresses are assigned after deployment, so each comes as a shell expression that
    looks it up (``addressCommand``); the commands embed it. No secret values: the MLDE
    password comes as the command that reveals it.
    """
    exposure = platform.exposure
    mldm_address = exposure.address(platform.mldm_proxy)
    mlde_address = exposure.address(platform.mlde_ingress)
    kserve_address = exposure.address(platform.kserve_ingress)
    model_host = f"MODEL.{platform.models_namespace}.{platform.kserve_domain}"
    pulumi.export(
        MLDM,
        {"service": platform.mldm_proxy.host, "addressCommand": f"echo {mldm_address}"},
    )
    pulumi.export(
        MLDE,
        {
            "service": platform.mlde_ingress.host,
            "addressCommand": f"echo {mlde_address}",
            "user": platform.mlde_user,
        },
    )
    pulumi.export(
        KSERVE,
        {
            "service": platform.kserve_ingress.host,
            "addressCommand": f"echo {kserve_address}",
            "namespace": platform.models_namespace,
            "hostHeader": model_host,
        },
    )
    password = (
        f"kubectl -n default get secret {PIPELINE_SECRET} "
        "-o jsonpath='{.data.det_password}' | base64 -d"
    )
    commands: dict[str, pulumi.Input[str]] = {
        **contract.commands,
        "pachctlConnect": f'pachctl connect "http://{mldm_address}"',
        "mldeAdminPassword": password,
        "detLogin": f'det -m "http://{mlde_address}" user login {platform.mlde_user}',
        "predict": (
            f'curl -sS -H "Host: {model_host}" -H "Content-Type: application/json" '
            f'"http://{kserve_address}/v1/models/MODEL:predict" -d @request.json'
        ),
    }
    if platform.models_web_app:
        commands["modelsWebApp"] = (
            f"kubectl -n {MODELS_WEB_APP_NAMESPACE} port-forward svc/{MODELS_WEB_APP} 8080:80"
        )
    pulumi.export(COMMANDS, commands)
