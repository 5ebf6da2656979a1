"""Wires the platform components in dependency order on top of a target contract."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.config import StackConfig
from infra.contract import TargetContract
from infra.naming import Naming
from infra.platform.cert_manager import CertManager, CertManagerArgs
from infra.platform.endpoints import Endpoint
from infra.platform.exposure import Exposure
from infra.platform.gpu import GpuEnablement, GpuEnablementArgs
from infra.platform.ingress import IngressArgs, IngressController
from infra.platform.istio import GATEWAY_SERVICE, Istio, IstioArgs
from infra.platform.istio import NAMESPACE as ISTIO_NAMESPACE
from infra.platform.knative import KnativeServing, KnativeServingArgs
from infra.platform.kserve import KServe, KServeArgs
from infra.platform.mldm import ADMIN_USER, Mldm, MldmArgs
from infra.platform.models_web_app import ModelsWebApp, ModelsWebAppArgs
from infra.platform.values import (
    DEFAULT_POOL,
    GPU_POOL,
    MLDE_MASTER,
    PACHD,
    PACHD_S3,
    MldeSettings,
)
from infra.platform.wiring import PdkWiring, PdkWiringArgs
from infra.targets.common.namespaces import MODELS_NAMESPACE


@dataclass(frozen=True)
class PlatformResult:
    """What the platform exposes to the flow and to the stack outputs."""

    exposure: Exposure
    mldm_proxy: Endpoint
    """The Service users reach MLDM through."""
    mlde_ingress: Endpoint
    """The ingress controller in front of the MLDE master."""
    kserve_ingress: Endpoint
    """Where model requests enter the cluster."""
    kserve_domain: str
    models_namespace: str
    mlde_user: str
    mlde_password: pulumi.Output[str]
    """The generated MLDE admin password (a Pulumi secret)."""
    mldm_proxy_service: k8s.core.v1.Service
    """The MLDM proxy Service; its load balancer address is where Pulumi reaches MLDM."""
    mlde_ingress_object: k8s.networking.v1.Ingress
    """The MLDE Ingress; its load balancer address is where Pulumi reaches MLDE."""
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
        )
        if contract.nodes.gpu_enabled and contract.nodes.needs_device_plugin:
            GpuEnablement(
                "gpu",
                GpuEnablementArgs(
                    nodes=contract.nodes, chart_version=config.gpu.device_plugin_chart_version
                ),
                opts=child,
            )

        cert_manager = CertManager(
            "cert-manager", CertManagerArgs(config.cert_manager.chart_version), opts=child
        )
        serverless = config.kserve.deployment_mode == "Serverless"
        kserve_needs: list[pulumi.Resource] = [cert_manager.release]
        if config.istio.enabled:
            istio = Istio(
                "istio",
                IstioArgs(chart_version=config.istio.chart_version, exposure=exposure),
                opts=child,
            )
            if serverless:
                knative = KnativeServing(
                    "knative",
                    KnativeServingArgs(
                        naming=naming,
                        version=config.knative.serving_version,
                        net_istio_version=config.knative.net_istio_version,
                        domain=config.kserve.domain,
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
                exposure=exposure,
            ),
            opts=child,
        )
        ingress = IngressController(
            "ingress",
            IngressArgs(
                naming=naming,
                chart_version=config.ingress.chart_version,
                exposure=exposure,
                mlde=MLDE_MASTER,
                mlde_ready=[mldm.release],
            ),
            opts=child,
        )
        if not serverless:
            kserve_needs.append(ingress.release)
        kserve = KServe(
            "kserve",
            KServeArgs(
                chart_version=config.kserve.chart_version,
                mode=config.kserve.deployment_mode,
                domain=config.kserve.domain,
                ingress_class="nginx",
                prerequisites=kserve_needs,
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

        kserve_ingress = (
            # The gateway chart names its port 80 "http2".
            Endpoint(ISTIO_NAMESPACE, GATEWAY_SERVICE, 80, "http", port_name="http2")
            if serverless
            else ingress.endpoint
        )
        PdkWiring(
            "wiring",
            PdkWiringArgs(
                naming=naming,
                contract=contract,
                mldm=PACHD,
                mldm_s3=PACHD_S3,
                mlde=MLDE_MASTER,
                kserve_ingress=kserve_ingress,
                kserve_domain=config.kserve.domain,
                models_namespace=MODELS_NAMESPACE,
                mlde_user=ADMIN_USER,
                mlde_password=mldm.admin_password,
                depends_on=[contract.namespaces[MODELS_NAMESPACE]],
            ),
            opts=child,
        )
        self.result = PlatformResult(
            exposure=exposure,
            mldm_proxy=mldm.proxy,
            mlde_ingress=ingress.endpoint,
            kserve_ingress=kserve_ingress,
            kserve_domain=config.kserve.domain,
            models_namespace=MODELS_NAMESPACE,
            mlde_user=ADMIN_USER,
            mlde_password=mldm.admin_password,
            mldm_proxy_service=mldm.proxy_service,
            mlde_ingress_object=ingress.mlde_ingress,
            models_web_app=config.kserve.models_web_app,
        )
        self.register_outputs({"kserveMode": config.kserve.deployment_mode})


def build(naming: Naming, config: StackConfig, contract: TargetContract) -> PlatformResult:
    return Platform("platform", naming, config, contract).result
