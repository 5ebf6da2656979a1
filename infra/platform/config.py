"""The platform's config groups (GPU placement, exposure, the charts it installs, MLDM, MLDE),
their value types and the rules across them; ``StackConfig`` inherits the groups.

Imports only pydantic and the shared config package (no Pulumi), so config errors stay fast.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field

from infra import versions
from infra.config.problems import MISSING, Problem, fail, ignored, rm_fix, set_fix, warning
from infra.config.types import Model
from infra.values import (
    ChartVersion,
    PinnedImage,
    Quantity,
    SourceRanges,
    chart_archive,
    split_list,
)

if TYPE_CHECKING:
    from infra.config.rules import Rule, RuleContext


PRIVATE_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
"""The RFC 1918 ranges: the default for who may reach exposed services, so a fresh stack is
reachable from the site's network but not from the internet until someone decides it should be."""

LABEL_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")


def label_key_fits(key: str) -> bool:
    """Kubernetes label keys: an optional DNS prefix of at most 253 characters and a name of at
    most 63 (apimachinery's IsQualifiedName)."""
    prefix, _, name = key.rpartition("/")
    return bool(LABEL_NAME.match(key)) and len(name) <= 63 and len(prefix) <= 253


def label_value_fits(value: str) -> bool:
    """Kubernetes label values: at most 63 characters of ``[A-Za-z0-9_.-]``, alphanumeric ends."""
    return bool(LABEL_VALUE.match(value)) and len(value) <= 63


def _node_label(value: str) -> str:
    key, sep, label_value = value.partition("=")
    if not sep or not label_key_fits(key) or not label_value_fits(label_value):
        raise fail(
            "is not a node label",
            "KEY=VALUE with a valid Kubernetes label key (name at most 63 characters) and value "
            "(at most 63), e.g. nodegroup-role=gpu-worker",
            "write the label as KEY=VALUE",
        )
    return value


def _taint(value: str) -> str:
    match = re.match(r"^(?P<key>[^=:]+)(=(?P<value>[^:]*))?:(?P<effect>.+)$", value)
    if (
        not match
        or not label_key_fits(match["key"])
        or not label_value_fits(match["value"] or "")
        or match["effect"] not in TAINT_EFFECTS
    ):
        raise fail(
            "is not a node taint",
            f"KEY=VALUE:EFFECT with EFFECT one of {', '.join(TAINT_EFFECTS)}, "
            "e.g. nvidia.com/gpu=present:NoSchedule",
            "write the taint as KEY=VALUE:EFFECT",
        )
    return value


def _domain(value: str) -> str:
    if (
        not _DOMAIN.match(value)
        or len(value) > 253
        or any(len(label) > 63 for label in value.split("."))
    ):
        raise fail(
            "is not a DNS domain",
            "lowercase DNS labels of at most 63 characters joined by dots, at most 253 in all, "
            "e.g. example.com or models.pdk.internal",
            "give the domain only, without scheme or port",
        )
    return value


def _slot_count(value: int) -> int:
    if not 1 <= value <= 16:
        raise fail(
            "is not a GPU count per pod",
            "1 to 16, at most the GPUs of one GPU node",
            "set it to the GPU count of your GPU nodes",
        )
    return value


def split_label(value: str) -> tuple[str, str]:
    """``KEY=VALUE`` (already validated) as a pair."""
    key, _, label_value = value.partition("=")
    return key, label_value


def split_taint(value: str) -> tuple[str, str, str]:
    """``KEY=VALUE:EFFECT`` (already validated) as a triple."""
    head, _, effect = value.rpartition(":")
    key, _, taint_value = head.partition("=")
    return key, taint_value, effect


NodeLabel = Annotated[str, AfterValidator(_node_label)]
Taint = Annotated[str, AfterValidator(_taint)]
Domain = Annotated[str, AfterValidator(_domain)]
ServiceType = Literal["LoadBalancer", "NodePort"]
SlotCount = Annotated[int, AfterValidator(_slot_count)]


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
        versions.POSTGRES.version,
        description="Postgres image, pinned: the in-cluster server on target existing, and the "
        "client of the database-setup Job on every target. Postgres 16, the major of the "
        "managed databases (Postgres 13 left upstream support in November 2025).",
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


_KSERVE_RENAMED_IN = (0, 17)
"""KServe 0.17 renamed the resources chart (kserve -> kserve-resources) and the modes
(Serverless -> Knative, RawDeployment -> Standard)."""


def kserve_renamed(version: str) -> bool:
    """Whether KServe ``version`` uses the names of 0.17 and later."""
    major, minor, *_ = version.removeprefix("v").split(".")
    return (int(major), int(minor)) >= _KSERVE_RENAMED_IN


def kserve_resources_chart(version: str) -> str:
    """The name KServe's resources chart has at ``version``."""
    return "kserve-resources" if kserve_renamed(version) else "kserve"


def _archive_folder(value: str) -> str:
    if value and not value.startswith("/"):
        raise fail(
            "is not an absolute path",
            "empty (charts come from their public repositories) or the absolute path of a folder "
            "of chart archives named NAME-VERSION.tgz",
            "give the folder's absolute path",
        )
    return value.rstrip("/") or value


class ChartsConfig(Model):
    """Where Helm charts come from: their public repositories, or a local folder of archives
    (air-gapped clusters, and the rig in tests/rig/, which has no internet)."""

    archives: Annotated[str, AfterValidator(_archive_folder)] = Field(
        "",
        description="Absolute path of a folder holding every chart the stack installs as "
        "NAME-VERSION.tgz (e.g. cert-manager-v1.21.2.tgz, gateway-helm-v1.9.0.tgz), used instead "
        "of the public chart repositories. Empty: the public repositories.",
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


class PlatformGroups(Model):
    """The platform's groups, in ``Pulumi.yaml``'s order; ``StackConfig`` inherits them."""

    gpu: GpuConfig = Field(default_factory=GpuConfig)
    shared_fs: SharedFsConfig = Field(default_factory=SharedFsConfig)
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    expose: ExposeConfig = Field(default_factory=ExposeConfig)
    cert_manager: CertManagerConfig = Field(default_factory=CertManagerConfig)
    istio: IstioConfig = Field(default_factory=IstioConfig)
    knative: KnativeConfig = Field(default_factory=KnativeConfig)
    kserve: KserveConfig = Field(default_factory=KserveConfig)
    platform: PlatformConfig = Field(default_factory=PlatformConfig)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    tls: TlsConfig = Field(default_factory=TlsConfig)
    mldm: MldmConfig = Field(default_factory=MldmConfig)
    mlde: MldeConfig = Field(default_factory=MldeConfig)
    charts: ChartsConfig = Field(default_factory=ChartsConfig)


def serverless_needs_istio(ctx: RuleContext[Any]) -> list[Problem]:
    mode = ctx.config.kserve.deployment_mode
    if mode != "Serverless" or ctx.config.istio.enabled:
        return []
    return [
        Problem(
            "kserveDeploymentMode",
            mode,
            "is Serverless, which routes through Knative and Istio, but istioEnabled is false",
            "RawDeployment when Istio is off; Serverless needs istioEnabled true",
            set_fix(ctx.stack, "kserveDeploymentMode", "RawDeployment")
            + f", or: pulumi config set istioEnabled true --stack {ctx.stack}",
        )
    ]


def gpu_pool_needs_gpus(ctx: RuleContext[Any]) -> list[Problem]:
    if ctx.config.mlde.compute_pool != "gpu-pool" or ctx.config.gpu.enabled:
        return []
    return [
        Problem(
            "mldeComputePool",
            "gpu-pool",
            "is the GPU pool, but gpuEnabled is false (a CPU-only stack has no GPU pool)",
            "default, or empty, on a CPU-only stack",
            set_fix(ctx.stack, "mldeComputePool", "default")
            + f", or: pulumi config set gpuEnabled true --stack {ctx.stack}",
        )
    ]


def unused_gpu_keys(ctx: RuleContext[Any]) -> list[Problem]:
    if ctx.config.gpu.enabled:
        return []
    keys = ("gpuDevicePluginChartVersion", "mldeGpuImage")
    allowed = "unset while gpuEnabled is false"
    return [ignored(ctx.stack, key, ctx.raw[key], allowed) for key in keys if ctx.is_set(key)]


def unused_knative_keys(ctx: RuleContext[Any]) -> list[Problem]:
    if ctx.config.kserve.deployment_mode != "RawDeployment":
        return []
    keys = ("knativeServingVersion", "knativeNetIstioVersion")
    allowed = "unset with kserveDeploymentMode RawDeployment (no Knative)"
    return [ignored(ctx.stack, key, ctx.raw[key], allowed) for key in keys if ctx.is_set(key)]


def unused_istio_keys(ctx: RuleContext[Any]) -> list[Problem]:
    if ctx.config.istio.enabled or not ctx.is_set("istioChartVersion"):
        return []
    return [
        ignored(
            ctx.stack,
            "istioChartVersion",
            ctx.raw["istioChartVersion"],
            "unset while istioEnabled is false",
        )
    ]


def _pins_in_use(ctx: RuleContext[Any]) -> dict[str, str]:
    """Config key -> version for each matrix-pinned component this stack installs."""
    config = ctx.config
    in_use = {
        "mldmChartVersion": config.mldm.chart_version,
        "mldeVersion": config.mlde.version,
        "kserveChartVersion": config.kserve.chart_version,
        "certManagerChartVersion": config.cert_manager.chart_version,
        "gatewayChartVersion": config.gateway.chart_version,
    }
    if config.gpu.enabled:
        in_use["gpuDevicePluginChartVersion"] = config.gpu.device_plugin_chart_version
    if config.istio.enabled:
        in_use["istioChartVersion"] = config.istio.chart_version
    if config.kserve.deployment_mode == "Serverless":
        in_use["knativeServingVersion"] = config.knative.serving_version
        in_use["knativeNetIstioVersion"] = config.knative.net_istio_version
    return in_use


def _charts_in_use(ctx: RuleContext[Any]) -> list[tuple[str, str, str]]:
    """(config key, chart name, version) of each chart the platform installs; the names are the
    archives' (``infra.charts.archive_name``). Target charts (the AWS autoscaler) are checked
    when their release is declared."""
    names = {
        "mldmChartVersion": ("pachyderm",),
        "kserveChartVersion": (
            "kserve-crd",
            kserve_resources_chart(ctx.config.kserve.chart_version),
        ),
        "certManagerChartVersion": ("cert-manager",),
        "gatewayChartVersion": ("gateway-crds-helm", "gateway-helm"),
        "istioChartVersion": ("base", "istiod", "gateway"),
    }
    return [
        (key, name, version)
        for key, version in _pins_in_use(ctx).items()
        for name in names.get(key, ())
    ]


def chart_archives_complete(ctx: RuleContext[Any]) -> list[Problem]:
    """A ``chartArchives`` folder must hold every chart the stack installs, checked before
    anything is registered (a missing archive found mid-``up`` leaves a half-made stack)."""
    folder = ctx.config.charts.archives
    if not folder:
        return []
    if not os.path.isdir(folder):
        return [
            Problem(
                "chartArchives",
                folder,
                "is not a folder on this machine",
                "a folder of chart archives named NAME-VERSION.tgz",
                "create it (the rig: `make rig`), or " + rm_fix(ctx.stack, "chartArchives"),
            )
        ]
    wanted = [(key, chart_archive(name, version)) for key, name, version in _charts_in_use(ctx)]
    missing = [
        (key, file) for key, file in wanted if not os.path.isfile(os.path.join(folder, file))
    ]
    if not missing:
        return []
    return [
        Problem(
            "chartArchives",
            folder,
            f"lacks {', '.join(f'{file} ({key})' for key, file in missing)}",
            "a folder holding every chart the stack installs, as NAME-VERSION.tgz",
            "add the archives (`helm pull` them where the internet is reachable), or "
            + rm_fix(ctx.stack, "chartArchives"),
        )
    ]


def pins_support_kubernetes(ctx: RuleContext[Any]) -> list[Problem]:
    """Every pinned component the stack installs supports its ``kubernetesVersion``
    (``infra.versions``); the problem names the pin and the range its upstream supports."""
    version = ctx.config.kubernetes_version
    return [
        Problem(
            "kubernetesVersion",
            version,
            f"is not supported by {pin.name} {pinned} (set by {key}), which supports "
            f"Kubernetes {pin.kubernetes}",
            f"a version every pinned component supports: {versions.KUBERNETES.kubernetes}",
            set_fix(ctx.stack, "kubernetesVersion", versions.KUBERNETES.version),
        )
        for key, pinned, pin in versions.unsupported(version, _pins_in_use(ctx))
    ]


def servers_match_clients(ctx: RuleContext[Any]) -> list[Problem]:
    """The flow's clients come from pyproject.toml; their servers must share their major.minor
    (Pachyderm's rule; the determined 0.38 client fails on older masters' replies)."""
    problems: list[Problem] = []
    for key, server, client in (
        ("mldmChartVersion", ctx.config.mldm.chart_version, versions.PACHYDERM_SDK),
        ("mldeVersion", ctx.config.mlde.version, versions.DETERMINED_SDK),
    ):
        if versions.minor(server) == versions.minor(client.version):
            continue
        package = client.name.split()[0]
        problems.append(
            Problem(
                key,
                server,
                f"does not match the {package} client {client.version} the flow uses (client "
                "and server major.minor must agree)",
                f"a {'.'.join(map(str, versions.minor(client.version)))}.x version",
                set_fix(ctx.stack, key, versions.by_config_key()[key].version),
            )
        )
    return problems


def _open_to_the_internet(ranges: str) -> list[str]:
    found = []
    for cidr in split_list(ranges):
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if network.prefixlen == 0:
            found.append(cidr)
    return found


def exposed_to_the_internet(ctx: RuleContext[Any]) -> list[Problem]:
    """A warning, not an error: a demo may want it, but it should be a decision."""
    expose = ctx.config.expose
    everyone = _open_to_the_internet(expose.source_ranges)
    if not everyone or expose.service_type != "LoadBalancer":
        return []
    return [
        warning(
            "exposeSourceRanges",
            expose.source_ranges,
            f"{everyone[0]} lets anyone on the internet reach the gateway (MLDM, MLDE and models)",
            "your office or VPN range, e.g. 203.0.113.0/24",
            set_fix(ctx.stack, "exposeSourceRanges", "10.0.0.0/8,<your-range>"),
        )
    ]


def unused_models_web_app_image(ctx: RuleContext[Any]) -> list[Problem]:
    key = "kserveModelsWebAppImage"
    if ctx.config.kserve.models_web_app or not ctx.is_set(key):
        return []
    return [ignored(ctx.stack, key, ctx.raw[key], "unset while kserveModelsWebApp is false")]


def acme_needs_a_contact_and_a_domain(ctx: RuleContext[Any]) -> list[Problem]:
    """An ACME CA registers an account by e-mail and validates names it can reach."""
    tls = ctx.config.tls
    if not tls.enabled or tls.issuer != "acme":
        return []
    problems: list[Problem] = []
    if not re.fullmatch(r"[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}", tls.acme_email):
        problems.append(
            Problem(
                "tlsAcmeEmail",
                tls.acme_email or MISSING,
                "must be a contact address when tlsIssuer is acme (the ACME CA registers an "
                "account with it)",
                "an e-mail address such as ops@example.org",
                set_fix(ctx.stack, "tlsAcmeEmail", "<you@your-domain>"),
            )
        )
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/\S*)?", tls.acme_server):
        problems.append(
            Problem(
                "tlsAcmeServer",
                tls.acme_server,
                "is not an https:// URL",
                "an ACME directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory",
                f"pulumi config rm tlsAcmeServer --stack {ctx.stack}",
            )
        )
    domain = ctx.config.kserve.domain
    private = (".example.com", ".local", ".internal", ".localhost", ".test")
    if domain == "example.com" or domain.endswith(private):
        problems.append(
            Problem(
                "kserveDomain",
                domain,
                "is not a public domain of yours, so an ACME CA cannot validate names under it",
                "a public DNS domain whose mlde. and mldm. names point at the gateway",
                set_fix(ctx.stack, "kserveDomain", "<pdk.your-domain>")
                + f", or: pulumi config set tlsIssuer selfSigned --stack {ctx.stack}",
            )
        )
    return problems


def _beyond_private(ranges: str) -> list[str]:
    """The ranges of a comma list that reach beyond the RFC 1918 networks."""
    private = [ipaddress.ip_network(net) for net in PRIVATE_NETWORKS.split(",")]
    wider = []
    for text in ranges.split(","):
        network = ipaddress.ip_network(text.strip(), strict=False)
        if not any(
            network.version == net.version and network.subnet_of(net)  # type: ignore[arg-type]
            for net in private
        ):
            wider.append(text.strip())
    return wider


def plaintext_needs_acknowledgement(ctx: RuleContext[Any]) -> list[Problem]:
    """Plain HTTP must not face networks beyond the private ranges unless someone said so."""
    tls = ctx.config.tls
    if tls.enabled:
        return []
    wider = _beyond_private(ctx.config.expose.source_ranges)
    if not wider:
        return []
    if tls.plaintext_acknowledged:
        return [
            warning(
                "tlsEnabled",
                ctx.raw.get("tlsEnabled", "false"),
                "is false (acknowledged) while exposeSourceRanges admits "
                + ", ".join(wider)
                + ": MLDE passwords and MLDM data cross those networks in clear",
                "true",
                f"pulumi config set tlsEnabled true --stack {ctx.stack}",
            )
        ]
    return [
        Problem(
            "tlsEnabled",
            ctx.raw.get("tlsEnabled", "false"),
            "is false while exposeSourceRanges admits networks beyond the private ranges ("
            + ", ".join(wider)
            + "): MLDE passwords and MLDM data would cross them in clear",
            "true; or false with tlsPlaintextAcknowledged true",
            f"pulumi config set tlsEnabled true --stack {ctx.stack}, or accept it: pulumi config "
            f"set tlsPlaintextAcknowledged true --stack {ctx.stack}",
        )
    ]


RULES: tuple[Rule, ...] = (
    exposed_to_the_internet,
    unused_models_web_app_image,
    serverless_needs_istio,
    gpu_pool_needs_gpus,
    unused_gpu_keys,
    unused_knative_keys,
    unused_istio_keys,
    pins_support_kubernetes,
    servers_match_clients,
    acme_needs_a_contact_and_a_domain,
    plaintext_needs_acknowledgement,
    chart_archives_complete,
)
"""The platform's rules, run on every stack."""
