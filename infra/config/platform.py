"""The shared config groups: what every target has (GPU placement, exposure, the platform's
charts, MLDM, MLDE, the flow). Target-specific groups live in ``infra/targets/<t>/config.py``.

Each group's field ``x`` in group ``g`` is the flat key ``gX`` (``gpu.node_label`` is
``gpuNodeLabel``); see ``infra.config.keys``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra import versions
from infra.config.types import (
    PRIVATE_NETWORKS,
    ChartVersion,
    Domain,
    Model,
    NodeLabel,
    PinnedImage,
    Quantity,
    ServiceType,
    SlotCount,
    SourceRanges,
    Taint,
)


class GpuConfig(Model):
    """Where GPU work runs. The label and taint must match what the nodes carry."""

    enabled: bool = Field(
        True, description="Whether the cluster has GPU nodes. False makes a CPU-only stack."
    )
    node_label: NodeLabel = Field(
        "nodegroup-role=gpu-worker",
        description="Label (KEY=VALUE) carried by GPU nodes; GPU workloads select it.",
    )
    taint: Taint = Field(
        "nvidia.com/gpu=present:NoSchedule",
        description="Taint (KEY=VALUE:EFFECT) on GPU nodes; GPU workloads tolerate it.",
    )
    cpu_node_label: NodeLabel = Field(
        "nodegroup-role=cpu-worker", description="Label (KEY=VALUE) carried by CPU nodes."
    )
    device_plugin_chart_version: ChartVersion = Field(
        versions.DEVICE_PLUGIN.version,
        description="Release of NVIDIA's device plugin (image nvcr.io/nvidia/k8s-device-plugin:"
        "v<version>), run as the platform's own DaemonSet on targets whose GPU nodes do not "
        "ship the plugin. (The key keeps its name from when NVIDIA's chart installed it.)",
    )


class SharedFsConfig(Model):
    """The shared read-write-many filesystem bound as ``pdk-pvc`` (MLDE's shared_fs). Where it
    comes from is the target's business (an NFS export, EFS, Filestore)."""

    size: Quantity = Field(
        "100Gi", description="Capacity recorded on the shared volume and its claims."
    )


class PostgresConfig(Model):
    """The Postgres image: the in-cluster server where a target runs one, and the client of the
    Job that creates the pachyderm, dex and determined databases on every target."""

    image: PinnedImage = Field(
        "docker.io/library/postgres:13.21",
        description="Postgres image, pinned: the in-cluster server on target existing, and the "
        "client of the database-setup Job on every target. Postgres 13 is what MLDM 2.8 and "
        "MLDE 0.28 were validated against.",
    )


class ExposeConfig(Model):
    """How the gateway, the one entrance to MLDM, MLDE and models, is reached from outside
    the cluster."""

    service_type: ServiceType = Field(
        "LoadBalancer",
        description="LoadBalancer: one cloud or MetalLB address for the gateway. NodePort: a "
        "port on every node, for kind/minikube and clusters without a load balancer.",
    )
    source_ranges: SourceRanges = Field(
        PRIVATE_NETWORKS,
        description="Comma-separated CIDRs allowed through the gateway's load balancer. "
        "Default: the private (RFC 1918) ranges only; add your office or VPN range to open it "
        "wider.",
    )


class CertManagerConfig(Model):
    """cert-manager, which issues the gateway's certificates and those of KServe's admission
    webhooks."""

    chart_version: ChartVersion = Field(
        versions.CERT_MANAGER.version,
        description="Version of the jetstack/cert-manager Helm chart (1.21 supports "
        "Kubernetes 1.33-1.36).",
    )


class IstioConfig(Model):
    """Istio: the network layer of Knative (KServe Serverless mode), behind the gateway."""

    enabled: bool = Field(
        True,
        description="Install Istio. Required by kserveDeploymentMode Serverless; RawDeployment "
        "serves models through the gateway without Istio.",
    )
    chart_version: ChartVersion = Field(
        versions.ISTIO.version,
        description="Version of Istio's base, istiod and gateway Helm charts (1.30 supports "
        "Kubernetes 1.32-1.36).",
    )


class KnativeConfig(Model):
    """Knative Serving with its Istio networking layer (KServe Serverless mode only)."""

    serving_version: ChartVersion = Field(
        versions.KNATIVE_SERVING.version,
        description="Knative Serving release whose official manifests are applied (Knative "
        "publishes no Helm chart for Serving). 1.21 needs Kubernetes 1.33 or newer; use 1.20.x "
        "on 1.32.",
    )
    net_istio_version: ChartVersion = Field(
        versions.KNATIVE_NET_ISTIO.version,
        description="Knative net-istio release (Knative's Istio networking layer); same minor "
        "as knativeServingVersion, patch releases differ.",
    )


class KserveConfig(Model):
    """KServe, which serves the models the flow deploys."""

    chart_version: ChartVersion = Field(
        versions.KSERVE_CHART.version,
        description="Version of KServe's Helm charts (kserve-crd, and kserve-resources from "
        "0.17 on, kserve before). 0.17 is built for Kubernetes 1.34 (client-go 0.34).",
    )
    deployment_mode: Literal["Serverless", "RawDeployment"] = Field(
        "Serverless",
        description="Serverless: Knative revisions, scale to zero, traffic through Istio. "
        "RawDeployment: plain Deployments routed by the gateway, no Knative or Istio needed.",
    )
    domain: Domain = Field(
        "example.com",
        description="Domain of every host the gateway serves: mlde.<domain>, mldm.<domain> and "
        "models at <model>.<namespace>.<domain>. Without DNS records, clients map the names to "
        "the gateway's address themselves (see the commands output).",
    )
    models_web_app: bool = Field(
        False, description="Install the KServe models web app (a UI listing InferenceServices)."
    )
    models_web_app_image: PinnedImage = Field(
        "ghcr.io/kserve/models-web-app:0.16.1",
        description="Image of the KServe models web app, pinned.",
    )


class PlatformConfig(Model):
    """Settings shared by every platform workload."""

    size: Literal["small", "standard"] = Field(
        "standard",
        description="Resource requests and limits of the platform's workloads. small: fits one "
        "4-CPU/8-GiB node beside the flow (kind, minikube); standard: clusters with room.",
    )


class GatewayConfig(Model):
    """Envoy Gateway: the one Gateway API edge in front of MLDM, MLDE and models, in every
    KServe mode (it replaced ingress-nginx, retired upstream in March 2026)."""

    chart_version: ChartVersion = Field(
        versions.ENVOY_GATEWAY.version,
        description="Version of Envoy Gateway's gateway-helm and gateway-crds-helm charts "
        "(v1.9: Gateway API v1.6.1, Kubernetes 1.33-1.36, supported until 2027-02-14).",
    )


class TlsConfig(Model):
    """TLS on the gateway: every user-facing host is served over HTTPS."""

    enabled: bool = Field(
        True,
        description="Serve MLDM, MLDE and models over HTTPS (plain HTTP redirects to HTTPS). "
        "False serves plain HTTP; on a stack whose exposeSourceRanges go beyond the private "
        "ranges that also needs tlsPlaintextAcknowledged.",
    )
    issuer: Literal["selfSigned", "acme"] = Field(
        "selfSigned",
        description="selfSigned: a CA generated by the stack signs the gateway's certificates "
        "(its certificate is the caCertificate output). acme: an ACME CA (Let's Encrypt by "
        "default) issues the mlde. and mldm. certificates through an HTTP-01 challenge, which "
        "needs public DNS names under kserveDomain and port 80 reachable from the CA.",
    )
    acme_email: str = Field(
        "",
        description="Contact address registered with the ACME CA; required with tlsIssuer acme.",
    )
    acme_server: str = Field(
        "https://acme-v02.api.letsencrypt.org/directory",
        description="ACME directory URL (e.g. Let's Encrypt's staging directory for trials).",
    )
    plaintext_acknowledged: bool = Field(
        False,
        description="Set true to accept tlsEnabled false on a stack exposed beyond the private "
        "ranges: passwords and data would cross those networks in clear.",
    )


class MldmConfig(Model):
    """MLDM (Pachyderm), installed with the pachyderm Helm chart."""

    chart_version: ChartVersion = Field(
        versions.PACHYDERM_CHART.version,
        description="Version of the pachyderm/pachyderm Helm chart (which also installs MLDE "
        "through its determined: block).",
    )


class MldeConfig(Model):
    """MLDE (Determined), installed through the Pachyderm chart's determined: block."""

    version: ChartVersion = Field(
        versions.MLDE.version,
        description="Determined version the master runs (detVersion); its major.minor must "
        "match the determined client the flow uses.",
    )
    cpu_image: PinnedImage = Field(
        versions.MLDE_CPU_IMAGE.version,
        description="Default image of CPU tasks, pinned (Determined 0.38's default: NGC PyTorch, "
        "Python 3.10).",
    )
    gpu_image: PinnedImage = Field(
        versions.MLDE_GPU_IMAGE.version,
        description="Default image of GPU tasks, pinned (Determined 0.38's default: NGC PyTorch "
        "with kernels for T4 to H100, Python 3.10).",
    )
    max_slots_per_pod: SlotCount = Field(
        1,
        description="GPUs one task pod may request: at most the GPUs of one GPU node.",
    )
    compute_pool: Literal["", "default", "gpu-pool"] = Field(
        "",
        description="Resource pool that runs experiments. Empty: gpu-pool when gpuEnabled, "
        "else default. gpu-pool needs gpuEnabled.",
    )


class FlowConfig(Model):
    """The PDK flow in the stack: images built from source, MLDM project/repo/pipelines and the
    MLDE workspace/project of one example."""

    enabled: bool = Field(
        False,
        description="Declare the flow. Its MLDM and MLDE objects are created through the "
        "platform's own APIs during pulumi up, so the machine running Pulumi must reach MLDM "
        "and MLDE (see flowMldmAddress). Off by default: a stack opts in once it knows how.",
    )
    example: str = Field(
        "dog-cat",
        description="The example under examples/ whose flow the stack deploys "
        "(`pdk example list`).",
    )
    autoscaling: bool = Field(
        True,
        description="Scale the flow's pipeline workers to zero between jobs, so idle "
        "pipelines hold no node. false keeps one worker per pipeline up (jobs start sooner).",
    )
    mldm_address: str = Field(
        "",
        description="HOST:PORT where the machine running Pulumi reaches MLDM through the "
        "gateway (TLS unless tlsEnabled is false). Empty: mldm.<kserveDomain>:443, which must "
        "resolve to the gateway. Required with exposeServiceType NodePort, e.g. "
        "mldm.example.com:8443 behind a port-forward of the gateway.",
    )
    mlde_url: str = Field(
        "",
        description="URL where the machine running Pulumi reaches the MLDE master through the "
        "gateway. Empty: https://mlde.<kserveDomain>, which must resolve to the gateway. "
        "Required with exposeServiceType NodePort, e.g. https://mlde.example.com:8443.",
    )
