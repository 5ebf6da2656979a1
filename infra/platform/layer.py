"""Wires the platform components in dependency order on top of a target contract."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.config.stack import StackConfig
from infra.contract import TargetContract
from infra.naming import Naming
from infra.platform.cert_manager import CertManager, CertManagerArgs
from infra.platform.endpoints import Endpoint
from infra.platform.exposure import Exposure
from infra.platform.gateway import (
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    HTTP_LISTENER,
    Gateway,
    GatewayArgs,
    RouteArgs,
    route,
)
from infra.platform.gpu import GpuEnablement, GpuEnablementArgs
from infra.platform.istio import GATEWAY_ENDPOINT as ISTIO_GATEWAY_ENDPOINT
from infra.platform.istio import NAMESPACE as ISTIO_NAMESPACE
from infra.platform.istio import Istio, IstioArgs
from infra.platform.knative import KnativeServing, KnativeServingArgs
from infra.platform.kserve import KServe, KServeArgs
from infra.platform.mldm import ADMIN_USER, Mldm, MldmArgs
from infra.platform.models_web_app import ModelsWebApp, ModelsWebAppArgs
from infra.platform.tls import (
    MODELS_CERT_SECRET,
    PLATFORM_CERT_SECRET,
    EdgeTls,
    EdgeTlsArgs,
    models_host,
    platform_hosts,
)
from infra.platform.values import (
    DEFAULT_POOL,
    GPU_POOL,
    MLDE_MASTER,
    PACHD,
    PACHD_S3,
    MldeSettings,
)
from infra.platform.wiring import PdkWiring, PdkWiringArgs
from infra.sizing import resources
from infra.targets.common.namespaces import MODELS_NAMESPACE


@dataclass(frozen=True)
class PlatformResult:
    """What the platform exposes to the flow and to the stack outputs."""

    exposure: Exposure
    gateway: Endpoint
    """The gateway's user-facing port: the one way into MLDM, MLDE and models."""
    tls: bool
    """Whether the gateway serves HTTPS (and redirects HTTP)."""
    ca_certificate: pulumi.Output[str] | None
    """PEM of the CA that signs the gateway's certificates (None with TLS off)."""
    mldm_host: str
    """Host name of MLDM at the gateway (gRPC and HTTP)."""
    mlde_host: str
    """Host name of MLDE at the gateway."""
    mldm_proxy: Endpoint
    """The in-cluster Service the gateway sends MLDM traffic to."""
    kserve_ingress: Endpoint
    """Where model requests enter the cluster (the gateway)."""
    kserve_domain: str
    models_namespace: str
    mlde_user: str
    mlde_password: pulumi.Output[str]
    """The generated MLDE admin password (a Pulumi secret)."""
    mldm_token: pulumi.Output[str]
    """MLDM's root token (a Pulumi secret; MLDM auth is on)."""
    reachable: list[pulumi.Resource]
    """The Gateway and the MLDM and MLDE routes: after these, Pulumi can reach both."""
    models_web_app: bool


class Platform(pulumi.ComponentResource):
    """Every platform component, each in its own child component, on the target's provider."""

    result: PlatformResult

    def __init__(
        self,
        name: str,
        naming: Naming,
        config: StackConfig,
        contract: TargetContract,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(
            "pdk:platform:Platform",
            name,
            None,
            pulumi.ResourceOptions.merge(
                opts,
                # Children inherit the provider, not dependencies: each component states what
                # it waits for.
                pulumi.ResourceOptions(providers={"kubernetes": contract.provider}),
            ),
        )
        child = pulumi.ResourceOptions(parent=self)
        exposure = Exposure(
            service_type=config.expose.service_type,
            source_ranges=tuple(config.expose.source_ranges.split(",")),
            annotations=contract.load_balancer_annotations,
        )
        size = config.platform.size
        if contract.nodes.gpu_enabled and contract.nodes.needs_device_plugin:
            GpuEnablement(
                "gpu",
                GpuEnablementArgs(
                    naming=naming,
                    nodes=contract.nodes,
                    version=config.gpu.device_plugin_chart_version,
                    resources=resources("device-plugin", size),
                ),
                opts=child,
            )

        serverless = config.kserve.deployment_mode == "Serverless"
        domain = config.kserve.domain
        tls_on = config.tls.enabled
        acme = tls_on and config.tls.issuer == "acme"
        if not tls_on:
            pulumi.log.warn(
                "tlsEnabled is false: MLDM, MLDE and models are served over plain HTTP, "
                "passwords included."
            )
        route_namespaces = ["default", MODELS_NAMESPACE] + ([ISTIO_NAMESPACE] if serverless else [])
        gateway = Gateway(
            "gateway",
            GatewayArgs(
                naming=naming,
                chart_version=config.gateway.chart_version,
                exposure=exposure,
                tls=tls_on,
                models_host=models_host(domain, MODELS_NAMESPACE),
                route_namespaces=route_namespaces,
                proxy_resources=resources("envoy-proxy", size).values(),
                controller_values={
                    "deployment": {
                        "envoyGateway": {"resources": resources("envoy-gateway", size).values()}
                    },
                    "certgen": {"job": {"resources": resources("setup-job", size).values()}},
                },
                platform_cert_secret=PLATFORM_CERT_SECRET,
                models_cert_secret=MODELS_CERT_SECRET,
            ),
            opts=child,
        )
        cert_manager = CertManager(
            "cert-manager",
            CertManagerArgs(
                config.cert_manager.chart_version,
                size=size,
                gateway_api=acme,
                # The ACME solver's routes need the Gateway API CRDs at start-up.
                depends_on=[gateway.release] if acme else [],
                keep_crds=not naming.ephemeral,
                labels=naming.labels,
            ),
            opts=child,
        )
        ca_certificate: pulumi.Output[str] | None = None
        if tls_on:
            edge_tls = EdgeTls(
                "tls",
                EdgeTlsArgs(
                    naming=naming,
                    namespace=GATEWAY_NAMESPACE,
                    domain=domain,
                    models_namespace=MODELS_NAMESPACE,
                    issuer=config.tls.issuer,
                    acme_email=config.tls.acme_email,
                    acme_server=config.tls.acme_server,
                    gateway_name=GATEWAY_NAME,
                    http_listener=HTTP_LISTENER,
                    # The CA's Secret lives in cert-manager's namespace.
                    cert_manager=[cert_manager.release, cert_manager.namespace],
                    namespace_ready=[gateway.namespace],
                ),
                opts=child,
            )
            ca_certificate = edge_tls.ca_certificate
        kserve_needs: list[pulumi.Resource] = [cert_manager.release, gateway.gateway]
        if config.istio.enabled:
            istio = Istio(
                "istio",
                IstioArgs(
                    chart_version=config.istio.chart_version, size=size, labels=naming.labels
                ),
                opts=child,
            )
            if serverless:
                knative = KnativeServing(
                    "knative",
                    KnativeServingArgs(
                        naming=naming,
                        version=config.knative.serving_version,
                        net_istio_version=config.knative.net_istio_version,
                        domain=domain,
                        istio=[istio.istiod, istio.gateway],
                    ),
                    opts=child,
                )
                kserve_needs += [
                    istio.gateway,
                    knative.net_istio,
                    knative.domain,
                    knative.features,
                ]
                # Knative's routes live behind Istio's gateway, which stays inside the
                # cluster; the edge hands it every model host.
                route(
                    "route-models",
                    RouteArgs(
                        naming=naming,
                        name="models",
                        namespace=ISTIO_NAMESPACE,
                        hostnames=[models_host(domain, MODELS_NAMESPACE)],
                        backend=ISTIO_GATEWAY_ENDPOINT,
                        long_lived=False,
                        depends_on=[gateway.gateway, istio.gateway, istio.namespace],
                    ),
                    child,
                )

        mldm = Mldm(
            "mldm",
            MldmArgs(
                naming=naming,
                contract=contract,
                chart_version=config.mldm.chart_version,
                mlde=MldeSettings(
                    version=config.mlde.version,
                    cpu_image=config.mlde.cpu_image,
                    gpu_image=config.mlde.gpu_image,
                    max_slots_per_pod=config.mlde.max_slots_per_pod,
                    compute_pool=config.mlde.compute_pool
                    or (GPU_POOL if contract.nodes.gpu_enabled else DEFAULT_POOL),
                ),
                size=size,
            ),
            opts=child,
        )
        mlde_host, mldm_host = platform_hosts(domain)
        mlde_route = route(
            "route-mlde",
            RouteArgs(
                naming=naming,
                name="mlde",
                namespace=MLDE_MASTER.namespace,
                hostnames=[mlde_host],
                backend=MLDE_MASTER,
                depends_on=[gateway.gateway, mldm.release],
            ),
            child,
        )
        mldm_route = route(
            "route-mldm",
            RouteArgs(
                naming=naming,
                name="mldm",
                namespace=mldm.proxy.namespace,
                hostnames=[mldm_host],
                backend=mldm.proxy,
                depends_on=[gateway.gateway, mldm.proxy_service],
            ),
            child,
        )
        kserve = KServe(
            "kserve",
            KServeArgs(
                chart_version=config.kserve.chart_version,
                mode=config.kserve.deployment_mode,
                domain=domain,
                gateway=f"{GATEWAY_NAMESPACE}/{GATEWAY_NAME}",
                url_scheme="https" if tls_on else "http",
                prerequisites=kserve_needs,
                labels=naming.labels,
            ),
            opts=child,
        )
        if config.kserve.models_web_app:
            ModelsWebApp(
                "models-web-app",
                ModelsWebAppArgs(
                    naming=naming,
                    image=config.kserve.models_web_app_image,
                    kserve=kserve.controller,
                ),
                opts=child,
            )

        PdkWiring(
            "wiring",
            PdkWiringArgs(
                naming=naming,
                contract=contract,
                mldm=PACHD,
                mldm_s3=PACHD_S3,
                mlde=MLDE_MASTER,
                kserve_ingress=gateway.endpoint,
                kserve_domain=domain,
                models_namespace=MODELS_NAMESPACE,
                mlde_user=ADMIN_USER,
                mlde_password=mldm.admin_password,
                mldm_token=mldm.root_token,
                depends_on=[contract.namespaces[MODELS_NAMESPACE]],
            ),
            opts=child,
        )
        self.result = PlatformResult(
            exposure=exposure,
            gateway=gateway.endpoint,
            tls=tls_on,
            ca_certificate=ca_certificate,
            mldm_host=mldm_host,
            mlde_host=mlde_host,
            mldm_proxy=mldm.proxy,
            kserve_ingress=gateway.endpoint,
            kserve_domain=domain,
            models_namespace=MODELS_NAMESPACE,
            mlde_user=ADMIN_USER,
            mlde_password=mldm.admin_password,
            mldm_token=mldm.root_token,
            reachable=[gateway.gateway, mlde_route, mldm_route],
            models_web_app=config.kserve.models_web_app,
        )
        self.register_outputs({"kserveMode": config.kserve.deployment_mode})


def build(naming: Naming, config: StackConfig, contract: TargetContract) -> PlatformResult:
    return Platform("platform", naming, config, contract).result
