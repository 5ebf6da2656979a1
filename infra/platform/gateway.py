"""The edge: Envoy Gateway and the one Gateway every user-facing host goes through.

One Service (``pdk-gateway``) with one address carries MLDE, MLDM (gRPC and HTTP) and models
in every KServe mode, so users open one address to one range. Listeners:

- ``http`` (80): only routes from the Gateway's own namespace may attach, and with TLS on the
  only one there redirects to HTTPS; cert-manager's ACME HTTP-01 solver adds its challenge route
  beside it. Routes elsewhere (MLDE, MLDM, KServe's) cannot attach, so nothing is served in
  clear. With TLS off it admits the platform's namespaces instead.
- ``https`` (443): MLDE and MLDM, certificate ``pdk-platform-tls``.
- ``https-models`` (443, ``*.<models namespace>.<domain>``): models, certificate
  ``pdk-models-tls``; chosen by SNI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra import charts
from infra.naming import Naming
from infra.platform.endpoints import Endpoint
from infra.platform.exposure import Exposure

NAMESPACE = "envoy-gateway-system"
"""The controller's namespace; Envoy Gateway runs each Gateway's proxies there too."""
GATEWAY_NAMESPACE = "pdk-edge"
"""The Gateway, its certificates and the HTTPS redirect."""
GATEWAY_NAME = "pdk-gateway"
GATEWAY_CLASS = "pdk"
ENVOY_PROXY = "pdk-proxy"
SERVICE_NAME = "pdk-gateway"
"""The proxies' Service, named (not generated) so commands can look its address up."""
HTTP_LISTENER = "http"
HTTPS_LISTENER = "https"
MODELS_LISTENER = "https-models"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
_ROUTE_TIMEOUT = "0s"
"""No request timeout on MLDE and MLDM routes: ``det`` follows logs and ``pachctl`` streams
files over long-lived requests. (Envoy's own default is 15 s.)"""


@dataclass(frozen=True)
class GatewayArgs:
    naming: Naming
    """The stack's naming rules."""
    chart_version: str
    """Version of the gateway-helm chart (Envoy Gateway and the Gateway API CRDs)."""
    exposure: Exposure
    """Service type and source ranges of the gateway's Service."""
    tls: bool
    """HTTPS listeners and a redirect from HTTP; False serves plain HTTP only."""
    models_host: str
    """Wildcard host of models (``*.<namespace>.<domain>``)."""
    route_namespaces: Sequence[str]
    """Namespaces whose routes may attach to the HTTPS listeners (MLDE/MLDM, models)."""
    proxy_resources: Mapping[str, Mapping[str, str]]
    """Requests and limits of each Envoy proxy pod."""
    controller_values: Mapping[str, Any]
    """Extra chart values (the controller's resources)."""
    platform_cert_secret: str = ""
    """Secret of the MLDE/MLDM hosts' certificate (with ``tls``)."""
    models_cert_secret: str = ""
    """Secret of the model hosts' certificate (with ``tls``)."""


def _allowed(namespaces: Sequence[str]) -> dict[str, Any]:
    return {
        "namespaces": {
            "from": "Selector",
            "selector": {
                "matchExpressions": [
                    {
                        "key": "kubernetes.io/metadata.name",
                        "operator": "In",
                        "values": sorted(namespaces),
                    }
                ]
            },
        }
    }


def listeners(args: GatewayArgs) -> list[dict[str, Any]]:
    """The Gateway's listeners (see the module docstring)."""
    if not args.tls:
        return [
            {
                "name": HTTP_LISTENER,
                "port": 80,
                "protocol": "HTTP",
                "allowedRoutes": _allowed(args.route_namespaces),
            }
        ]

    def https(name: str, secret: str, hostname: str | None) -> dict[str, Any]:
        listener: dict[str, Any] = {
            "name": name,
            "port": 443,
            "protocol": "HTTPS",
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": secret}]},
            "allowedRoutes": _allowed(args.route_namespaces),
        }
        if hostname:
            listener["hostname"] = hostname
        return listener

    return [
        {
            "name": HTTP_LISTENER,
            "port": 80,
            "protocol": "HTTP",
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        },
        https(HTTPS_LISTENER, args.platform_cert_secret, None),
        https(MODELS_LISTENER, args.models_cert_secret, args.models_host),
    ]


class Gateway(pulumi.ComponentResource):
    """Envoy Gateway, its GatewayClass and proxy settings, the Gateway, and the redirect."""

    crds: k8s.helm.v4.Chart
    controller_namespace: k8s.core.v1.Namespace
    release: k8s.helm.v3.Release
    namespace: k8s.core.v1.Namespace
    gateway: k8s.apiextensions.CustomResource
    endpoint: Endpoint
    """The gateway's user-facing port."""

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:Gateway", name, None, opts)
        naming = args.naming
        labels = {"app.kubernetes.io/component": "gateway"}
        # The CRDs from Envoy Gateway's CRD chart (same version): the Gateway API's standard
        # channel only (v1.6.1 at v1.9.0), where the controller chart would bundle the
        # experimental one. Applied as objects, not as a release: the chart is too large for a
        # Helm release record (found by the rig's real API server; see charts.applied). A
        # chart bump moves the CRDs, since each is a resource of the stack.
        self.crds = charts.applied(
            f"{name}-crds",
            chart=charts.ENVOY_GATEWAY_CRDS,
            version=args.chart_version,
            namespace=NAMESPACE,
            labels={**naming.labels, **labels},
            values={
                "crds": {
                    "gatewayAPI": {"enabled": True, "channel": "standard"},
                    "envoyGateway": {"enabled": True},
                }
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.controller_namespace = charts.namespace(
            f"{name}-controller-namespace",
            NAMESPACE,
            {**naming.labels, **labels},
            pulumi.ResourceOptions(parent=self),
        )
        self.release = charts.release(
            f"{name}-release",
            chart=charts.ENVOY_GATEWAY,
            version=args.chart_version,
            release_name="envoy-gateway",
            namespace=NAMESPACE,
            values={
                "crds": {"enabled": False},
                # The topology injector is a mutating webhook that copies node zone labels onto
                # proxy pods, for zone-aware routing the edge does not use. Its webhook and
                # the certgen ClusterRole it needs are Helm hooks, which `helm uninstall` (and
                # so `pulumi destroy`) never deletes (found by the rig).
                "topologyInjector": {"enabled": False},
                **args.controller_values,
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.crds, self.controller_namespace]
            ),
        )
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=naming.metadata(GATEWAY_NAMESPACE, None, labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        service: dict[str, Any] = {
            "name": SERVICE_NAME,
            "type": args.exposure.service_type,
        }
        if args.exposure.load_balancer_source_ranges is not None:
            service["loadBalancerSourceRanges"] = args.exposure.load_balancer_source_ranges
            # Source ranges only hold if the load balancer keeps client addresses.
            service["externalTrafficPolicy"] = "Local"
        if args.exposure.service_annotations is not None:
            # The cloud's tags for the load balancer (leak detection), e.g. AWS's
            # additional-resource-tags; Envoy Gateway copies them onto the Service.
            service["annotations"] = args.exposure.service_annotations
        proxy = k8s.apiextensions.CustomResource(
            f"{name}-proxy-config",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="EnvoyProxy",
            metadata=naming.metadata(ENVOY_PROXY, GATEWAY_NAMESPACE, labels),
            spec={
                "provider": {
                    "type": "Kubernetes",
                    "kubernetes": {
                        "envoyService": service,
                        "envoyDeployment": {
                            "replicas": 1,
                            "container": {"resources": dict(args.proxy_resources)},
                        },
                    },
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, self.namespace]),
        )
        gateway_class = k8s.apiextensions.CustomResource(
            f"{name}-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata=naming.metadata(GATEWAY_CLASS, None, labels),
            spec={
                "controllerName": CONTROLLER_NAME,
                "parametersRef": {
                    "group": "gateway.envoyproxy.io",
                    "kind": "EnvoyProxy",
                    "name": ENVOY_PROXY,
                    "namespace": GATEWAY_NAMESPACE,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, proxy]),
        )
        self.gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version="gateway.networking.k8s.io/v1",
            kind="Gateway",
            metadata=naming.metadata(GATEWAY_NAME, GATEWAY_NAMESPACE, labels),
            spec={"gatewayClassName": GATEWAY_CLASS, "listeners": listeners(args)},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.release, self.namespace, gateway_class]
            ),
        )
        if args.tls:
            k8s.apiextensions.CustomResource(
                f"{name}-https-redirect",
                api_version="gateway.networking.k8s.io/v1",
                kind="HTTPRoute",
                metadata=naming.metadata("https-redirect", GATEWAY_NAMESPACE, labels),
                spec={
                    "parentRefs": [{"name": GATEWAY_NAME, "sectionName": HTTP_LISTENER}],
                    "rules": [
                        {
                            "filters": [
                                {
                                    "type": "RequestRedirect",
                                    "requestRedirect": {"scheme": "https", "statusCode": 301},
                                }
                            ]
                        }
                    ],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway, self.namespace]),
            )
        self.endpoint = (
            Endpoint(NAMESPACE, SERVICE_NAME, 443, "https", port_name="https-443")
            if args.tls
            else Endpoint(NAMESPACE, SERVICE_NAME, 80, "http", port_name="http-80")
        )
        self.register_outputs({"release": self.release.name, "gateway": GATEWAY_NAME})


@dataclass(frozen=True)
class RouteArgs:
    naming: Naming
    """The stack's naming rules."""
    name: str
    """The HTTPRoute's name."""
    namespace: str
    """Its namespace: the backend Service's (no ReferenceGrant needed)."""
    hostnames: Sequence[str]
    """Hosts it answers for."""
    backend: Endpoint
    """The Service port it forwards to."""
    long_lived: bool = True
    """No request timeout (streams, uploads, log follows)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """The Gateway and what creates the backend."""


def route(
    resource_name: str, args: RouteArgs, opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """An HTTPRoute from the Gateway's HTTPS listeners (or its HTTP one with TLS off) to one
    Service port."""
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{"name": args.backend.service, "port": args.backend.port}],
    }
    if args.long_lived:
        rule["timeouts"] = {"request": _ROUTE_TIMEOUT}
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version="gateway.networking.k8s.io/v1",
        kind="HTTPRoute",
        metadata=args.naming.metadata(
            args.name, args.namespace, {"app.kubernetes.io/component": "gateway"}
        ),
        spec={
            "parentRefs": [{"name": GATEWAY_NAME, "namespace": GATEWAY_NAMESPACE}],
            "hostnames": list(args.hostnames),
            "rules": [rule],
        },
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=list(args.depends_on))
        ),
    )
