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
from infra.platform.values import AUTH_SECRET as MLDM_AUTH_SECRET
from infra.platform.values import ROOT_TOKEN_KEY
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
GATEWAY = "gateway"
CA_CERTIFICATE = "caCertificate"
"""PEM of the CA that signs the gateway's certificates (TLS on only); public, not a secret."""

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
    GATEWAY,
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

    Everything goes through the gateway, by host name. Its external address is assigned after
    deployment, so it comes as a shell expression that looks it up (``addressCommand``); the
    commands embed it. No secret values: the MLDE password comes as the command that reveals
    it. With TLS on, the CA certificate is an output and every command trusts it explicitly.
    """
    exposure, gateway = platform.exposure, platform.gateway
    gateway_host, gateway_port = exposure.host(gateway), exposure.port(gateway)
    address = f"echo {gateway_host}:{gateway_port}"
    # A load balancer listens on the standard port; a NodePort must be named in URLs.
    url_port = "" if exposure.service_type == "LoadBalancer" else f":{gateway_port}"
    scheme = "https" if platform.tls else "http"
    mlde_url = f"{scheme}://{platform.mlde_host}{url_port}"
    mldm_url = f"{'grpcs' if platform.tls else 'grpc'}://{platform.mldm_host}:" + (
        str(gateway.port) if not url_port else url_port[1:]
    )
    model_host = f"MODEL.{platform.models_namespace}.{platform.kserve_domain}"
    pulumi.export(
        GATEWAY,
        {
            "service": gateway.host,
            "addressCommand": address,
            "hosts": [
                platform.mlde_host,
                platform.mldm_host,
                f"*.{platform.models_namespace}.{platform.kserve_domain}",
            ],
            "tls": platform.tls,
        },
    )
    if platform.ca_certificate is not None:
        pulumi.export(CA_CERTIFICATE, platform.ca_certificate)
    pulumi.export(
        MLDM,
        {"url": mldm_url, "service": platform.mldm_proxy.host, "addressCommand": address},
    )
    pulumi.export(
        MLDE,
        {"url": mlde_url, "addressCommand": address, "user": platform.mlde_user},
    )
    pulumi.export(
        KSERVE,
        {
            "urlTemplate": f"{scheme}://{model_host}{url_port}",
            "addressCommand": address,
            "namespace": platform.models_namespace,
            "hostHeader": model_host,
        },
    )
    password = (
        f"kubectl -n default get secret {PIPELINE_SECRET} "
        "-o jsonpath='{.data.det_password}' | base64 -d"
    )
    trust_det = "DET_MASTER_CERT_FILE=pdk-ca.crt " if platform.tls else ""
    trust_pachctl = (
        ' && pachctl config update context --server-cas "$(base64 -w0 pdk-ca.crt)"'
        if platform.tls
        else ""
    )
    trust_curl = "--cacert pdk-ca.crt " if platform.tls else ""
    commands: dict[str, pulumi.Input[str]] = {
        **contract.commands,
        # Without DNS records for the names, map them to the gateway (once).
        "resolveHosts": (
            f"echo \"$(getent ahostsv4 {gateway_host} | awk 'NR==1{{print $1}}') "
            f'{platform.mlde_host} {platform.mldm_host}" | sudo tee -a /etc/hosts'
        ),
        # MLDM auth is on: log in with the root token (no identity provider is configured).
        "pachctlConnect": (
            f'pachctl connect "{mldm_url}"{trust_pachctl} && kubectl -n default get secret '
            f"{MLDM_AUTH_SECRET} -o jsonpath='{{.data.{ROOT_TOKEN_KEY}}}' | base64 -d | "
            "pachctl auth use-auth-token"
        ),
        "mldeAdminPassword": password,
        "detLogin": f'{trust_det}det -m "{mlde_url}" user login {platform.mlde_user}',
        "predict": (
            f"curl -sS {trust_curl}--connect-to "
            f'"{model_host}:{gateway.port}:{gateway_host}:{gateway_port}" '
            f'-H "Content-Type: application/json" '
            f'"{scheme}://{model_host}/v1/models/MODEL:predict" -d @request.json'
        ),
    }
    if platform.tls:
        commands["trustCa"] = f"pulumi stack output {CA_CERTIFICATE} > pdk-ca.crt"
    if platform.models_web_app:
        commands["modelsWebApp"] = (
            f"kubectl -n {MODELS_WEB_APP_NAMESPACE} port-forward svc/{MODELS_WEB_APP} 8080:80"
        )
    pulumi.export(COMMANDS, commands)
