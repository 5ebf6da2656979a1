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
        description="Version of NVIDIA's nvidia-device-plugin Helm chart, installed on targets "
        "whose GPU nodes do not ship the plugin.",
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
    """How the three user-facing endpoints (MLDM proxy, MLDE ingress, KServe gateway) are
    reached from outside the cluster."""

    service_type: ServiceType = Field(
        "LoadBalancer",
        description="LoadBalancer: one cloud or MetalLB address per endpoint. NodePort: a port "
        "on every node, for kind/minikube and clusters without a load balancer.",
    )
    source_ranges: SourceRanges = Field(
        PRIVATE_NETWORKS,
        description="Comma-separated CIDRs allowed through the load balancers. Default: the "
        "private (RFC 1918) ranges only; add your office or VPN range to open it wider.",
    )


class CertManagerConfig(Model):
    """cert-manager, which issues the certificates of KServe's admission webhooks."""

    chart_version: ChartVersion = Field(
        versions.CERT_MANAGER.version,
        description="Version of the jetstack/cert-manager Helm chart (1.21 supports "
        "Kubernetes 1.33-1.36).",
    )


class IstioConfig(Model):
    """Istio: the ingress gateway and network layer of Knative (KServe Serverless mode)."""

    enabled: bool = Field(
        True,
        description="Install Istio. Required by kserveDeploymentMode Serverless; RawDeployment "
        "serves models through ingress-nginx instead.",
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
        "RawDeployment: plain Deployments behind ingress-nginx, no Knative or Istio needed.",
    )
    domain: Domain = Field(
        "example.com",
        description="Domain of model URLs (<model>.<namespace>.<domain>); requests carry it in "
        "the Host header, so no DNS record is needed.",
    )
    models_web_app: bool = Field(
        False, description="Install the KServe models web app (a UI listing InferenceServices)."
    )
    models_web_app_image: PinnedImage = Field(
        "ghcr.io/kserve/models-web-app:0.16.1",
        description="Image of the KServe models web app, pinned.",
    )


class IngressConfig(Model):
    """ingress-nginx, which fronts the MLDE master (and models in RawDeployment mode)."""

    chart_version: ChartVersion = Field(
        versions.INGRESS_NGINX.version,
        description="Version of the ingress-nginx Helm chart. 4.14.3 is the last release: the "
        "project was retired in March 2026 and gets no further fixes.",
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
        description="HOST:PORT where the machine running Pulumi reaches MLDM (pachd through the "
        "MLDM proxy). Empty: the mldm-proxy load balancer's address. Required with "
        "exposeServiceType NodePort, e.g. localhost:30080 behind a port-forward.",
    )
    mlde_url: str = Field(
        "",
        description="URL where the machine running Pulumi reaches the MLDE master. Empty: "
        "http:// and the mlde-ingress load balancer's address. Required with exposeServiceType "
        "NodePort.",
    )
