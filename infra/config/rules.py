"""The rules engine, and the rules across the shared keys.

A rule is a small function of a ``RuleContext`` returning the problems it finds, one message
family each. Rules read typed, validated values. A key that failed its own check is not there to
read: touching it raises ``SkipRule`` inside the rule, which then does not run, so the user sees
the key's own problem rather than a knock-on one, and every other rule still runs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from infra import versions
from infra.config.problems import MISSING, Problem, ignored, set_fix, warning
from infra.config.stack import StackConfig
from infra.config.types import (
    DEPLOYMENT_ID_ALLOWED,
    PRIVATE_NETWORKS,
    Model,
    is_deployment_id,
    split_list,
    stack_deployment_id,
)

S = TypeVar("S", bound=Model)


class SkipRule(Exception):
    """Raised when a rule reads a value that failed validation."""


class Partial:
    """A validated model seen through a list of paths that failed: reading one raises
    ``SkipRule``; everything else reads as the model's value."""

    __slots__ = ("_failed", "_model")

    def __init__(self, model: Any, failed: set[tuple[str, ...]]) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_failed", failed)

    def __getattr__(self, name: str) -> Any:
        failed: set[tuple[str, ...]] = object.__getattribute__(self, "_failed")
        if (name,) in failed:
            raise SkipRule(name)
        value = getattr(object.__getattribute__(self, "_model"), name)
        nested = {path[1:] for path in failed if len(path) > 1 and path[0] == name}
        return Partial(value, nested) if nested else value


@dataclass(frozen=True)
class RuleContext(Generic[S]):
    """What a rule reads."""

    stack: str
    """The stack name, for the fix commands."""
    config: StackConfig
    """The shared keys, validated (failed ones raise ``SkipRule``)."""
    raw: Mapping[str, Any]
    """The keys the stack sets (declared defaults left out), as given."""
    secret_keys: frozenset[str]
    """Keys whose values are Pulumi secrets."""
    active_section: S | None = None

    @property
    def section(self) -> S:
        """The active target's section (rules of a section only run on that target)."""
        if self.active_section is None:
            raise SkipRule("section")
        return self.active_section

    def is_set(self, key: str) -> bool:
        return key in self.raw


Rule = Callable[[RuleContext[Any]], list[Problem]]


def partial(model: S, failed: set[tuple[str, ...]]) -> S:
    """``model`` as rules see it (typed as the model: the proxy reads the same)."""
    return cast(S, Partial(model, failed)) if failed else model


def run_rules(rules: Iterable[Rule], context: RuleContext[Any]) -> list[Problem]:
    problems: list[Problem] = []
    for rule in rules:
        try:
            problems.extend(rule(context))
        except SkipRule:
            continue
    return problems


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


def flow_example_exists(ctx: RuleContext[Any]) -> list[Problem]:
    """The flow deploys one of the repository's examples."""
    if not ctx.config.flow.enabled:
        return []
    from pdk_assets.manifest import EXAMPLES_DIR, MANIFEST_FILE

    example = ctx.config.flow.example
    known = sorted(p.parent.name for p in EXAMPLES_DIR.glob(f"*/{MANIFEST_FILE}"))
    if example in known:
        return []
    return [
        Problem(
            "flowExample",
            example,
            "is not an example of this repository",
            ", ".join(known) or "(none found under examples/)",
            set_fix(ctx.stack, "flowExample", known[0] if known else "<example>"),
        )
    ]


def flow_addresses_reachable(ctx: RuleContext[Any]) -> list[Problem]:
    """Without load balancers Pulumi cannot find MLDM and MLDE by itself."""
    flow = ctx.config.flow
    if not flow.enabled or ctx.config.expose.service_type != "NodePort":
        return []
    problems: list[Problem] = []
    for key, current, example in (
        ("flowMldmAddress", flow.mldm_address, "localhost:30080"),
        ("flowMldeUrl", flow.mlde_url, "http://localhost:30081"),
    ):
        if not current:
            problems.append(
                Problem(
                    key,
                    MISSING,
                    "is required with exposeServiceType NodePort: there is no load balancer "
                    "address for Pulumi to reach",
                    "an address reachable from the machine running pulumi up",
                    set_fix(ctx.stack, key, example),
                )
            )
    return problems


def flow_address_format(ctx: RuleContext[Any]) -> list[Problem]:
    flow = ctx.config.flow
    if not flow.enabled:
        return []
    problems: list[Problem] = []
    address = flow.mldm_address
    if address and not re.fullmatch(r"[A-Za-z0-9.-]+:[0-9]{1,5}", address):
        problems.append(
            Problem(
                "flowMldmAddress",
                address,
                "is not HOST:PORT",
                "e.g. localhost:30080 or mldm.pdk.internal:80",
                set_fix(ctx.stack, "flowMldmAddress", "localhost:30080"),
            )
        )
    url = flow.mlde_url
    if url and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?", url):
        problems.append(
            Problem(
                "flowMldeUrl",
                url,
                "is not an http(s) URL of a host",
                "e.g. http://localhost:30081 or https://mlde.pdk.internal",
                set_fix(ctx.stack, "flowMldeUrl", "http://localhost:30081"),
            )
        )
    return problems


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


def stack_name_as_deployment_id(ctx: RuleContext[Any]) -> list[Problem]:
    """Without ``deploymentId`` the stack name goes into every cloud-side name (buckets, IAM
    roles, node groups); one that cannot would fail mid-deployment, after other resources."""
    if ctx.config.deployment_id:
        return []
    derived = stack_deployment_id(ctx.stack)
    if is_deployment_id(derived):
        return []
    return [
        Problem(
            "deploymentId",
            MISSING,
            f"is not set, so the stack name {ctx.stack!r} would be the deployment id, but it "
            f"becomes {derived!r}, which cannot be part of bucket and resource names",
            DEPLOYMENT_ID_ALLOWED,
            set_fix(ctx.stack, "deploymentId", "<short-id>"),
        )
    ]


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


def unused_flow_keys(ctx: RuleContext[Any]) -> list[Problem]:
    if ctx.config.flow.enabled:
        return []
    keys = ("flowExample", "flowMldmAddress", "flowMldeUrl")
    allowed = "unset while flowEnabled is false"
    return [ignored(ctx.stack, key, ctx.raw[key], allowed) for key in keys if ctx.is_set(key)]


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
    if domain == "example.com" or domain.endswith((".example.com", ".local", ".internal")):
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


SHARED_RULES: tuple[Rule, ...] = (
    stack_name_as_deployment_id,
    exposed_to_the_internet,
    unused_flow_keys,
    unused_models_web_app_image,
    serverless_needs_istio,
    gpu_pool_needs_gpus,
    unused_gpu_keys,
    unused_knative_keys,
    unused_istio_keys,
    flow_example_exists,
    flow_addresses_reachable,
    flow_address_format,
    pins_support_kubernetes,
    servers_match_clients,
    acme_needs_a_contact_and_a_domain,
    plaintext_needs_acknowledgement,
)
"""The rules across shared keys, run on every stack, before the active target's rules."""
