"""The edge: one Gateway for MLDM, MLDE and models, TLS on every host users reach, the CA as
an output, and the TLS settings' bad-input checks.

Run against every stack's plan under Pulumi's mocks, plus variants of the onprem stack
(ACME, TLS off). The Gateway API semantics used here (a route attaches to every listener
whose ``allowedRoutes`` admits its namespace unless it names a ``sectionName``; ``*.d``
matches any name ending in ``.d``) are the Gateway API v1 specification's.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from infra import outputs
from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.plan.engine import run_program
from infra.plan.stackfiles import read_stack
from tests.conftest import (
    STACKS,
    depends_on,
    k8s_objects,
    releases,
    resource,
    validate_custom_resources,
)

PUBLIC = "10.0.0.0/8,198.51.100.0/24"


def _objects(snapshot: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for _, m in k8s_objects(snapshot) if m["kind"] == kind]


def _gateway(snapshot: dict[str, Any]) -> dict[str, Any]:
    (gateway,) = _objects(snapshot, "Gateway")
    return gateway


def _admits(listener: dict[str, Any], namespace: str, gateway_namespace: str) -> bool:
    namespaces = listener["allowedRoutes"]["namespaces"]
    if namespaces["from"] == "Same":
        return namespace == gateway_namespace
    (expression,) = namespaces["selector"]["matchExpressions"]
    assert expression["key"] == "kubernetes.io/metadata.name"
    return expression["operator"] == "In" and namespace in expression["values"]


def _host_matches(pattern: str, host: str) -> bool:
    """Certificate name matching: a wildcard covers exactly one label."""
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def _listener_matches(listener: dict[str, Any], host: str) -> bool:
    """Gateway API listener hostname matching (a wildcard covers one or more labels)."""
    pattern = listener.get("hostname")
    return pattern is None or fnmatch.fnmatchcase(host, pattern)


def _attached(snapshot: dict[str, Any], route: dict[str, Any], host: str) -> list[dict[str, Any]]:
    """The listeners of the stack's Gateway that serve ``route`` for ``host``."""
    gateway = _gateway(snapshot)
    namespace = gateway["metadata"]["namespace"]
    found = []
    for parent in route["spec"]["parentRefs"]:
        assert parent["name"] == gateway["metadata"]["name"]
        for listener in gateway["spec"]["listeners"]:
            if "sectionName" in parent and parent["sectionName"] != listener["name"]:
                continue
            route_namespace = route["metadata"]["namespace"]
            if _admits(listener, route_namespace, namespace) and _listener_matches(listener, host):
                found.append(listener)
    return found


def _kserve_route(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The HTTPRoute KServe (RawDeployment) creates per model: in the models namespace, at the
    Gateway named in its values, with no sectionName (httproute_reconciler.go at v0.17.1)."""
    gateway = _gateway(snapshot)
    return {
        "metadata": {"namespace": "models"},
        "spec": {
            "parentRefs": [
                {
                    "name": gateway["metadata"]["name"],
                    "namespace": gateway["metadata"]["namespace"],
                }
            ]
        },
    }


def _variant(overrides: dict[str, str]) -> dict[str, Any]:
    raw, secret_keys = read_stack("onprem")
    return run_program("onprem", load_config("onprem", {**raw, **overrides}, secret_keys)).to_dict()


@pytest.fixture(scope="module")
def acme() -> dict[str, Any]:
    return _variant(
        {
            "tlsIssuer": "acme",
            "tlsAcmeEmail": "ops@pdk.example.org",
            "kserveDomain": "pdk.example.org",
        }
    )


@pytest.fixture(scope="module")
def plaintext() -> dict[str, Any]:
    return _variant({"tlsEnabled": "false"})


# --- one gateway, no plain HTTP --------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_no_load_balancer_serves_plain_http_only(snapshots: dict[str, Any], stack: str) -> None:
    """The gateway is the only externally reachable Service: every other Service we declare
    or configure through a chart is ClusterIP. Its plain-HTTP listener admits routes from its
    own namespace only, where the one route redirects to HTTPS."""
    snapshot = snapshots[stack]
    for _, obj in k8s_objects(snapshot):
        if obj["kind"] == "Service":
            assert obj["spec"].get("type", "ClusterIP") == "ClusterIP", obj["metadata"]["name"]

    def service_types(value: Any) -> list[str]:
        if isinstance(value, dict):
            found = [v for k, v in value.items() if k == "type" and v == "LoadBalancer"]
            return found + [t for v in value.values() for t in service_types(v)]
        if isinstance(value, list):
            return [t for v in value for t in service_types(v)]
        return []

    for name, inputs in releases(snapshot).items():
        assert not service_types(inputs.get("values", {})), name
    gateway = _gateway(snapshot)
    http = [listener for listener in gateway["spec"]["listeners"] if listener["protocol"] == "HTTP"]
    assert [listener["allowedRoutes"] for listener in http] == [{"namespaces": {"from": "Same"}}]
    in_gateway_namespace = [
        r
        for r in _objects(snapshot, "HTTPRoute")
        if r["metadata"]["namespace"] == gateway["metadata"]["namespace"]
    ]
    assert len(in_gateway_namespace) == 1
    (redirect,) = in_gateway_namespace
    assert redirect["spec"]["parentRefs"] == [{"name": "pdk-gateway", "sectionName": "http"}]
    (rule,) = redirect["spec"]["rules"]
    assert rule == {
        "filters": [
            {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
        ]
    }
    assert "backendRefs" not in rule


@pytest.mark.parametrize("stack", STACKS)
def test_every_route_is_served_with_a_certificate_for_its_host(
    snapshots: dict[str, Any], stack: str
) -> None:
    """Every host a route answers for (ours, and KServe's per-model routes) is served only
    on HTTPS listeners whose certificate names that host."""
    snapshot = snapshots[stack]
    certificates = {
        c["spec"]["secretName"]: c["spec"]["dnsNames"] for c in _objects(snapshot, "Certificate")
    }
    routes = [
        (r, host)
        for r in _objects(snapshot, "HTTPRoute")
        if r["metadata"]["namespace"] != _gateway(snapshot)["metadata"]["namespace"]
        for host in r["spec"]["hostnames"]
    ]
    domain = resource(snapshot, "wiring-config")["inputs"]["data"]["kserve_domain"]
    routes.append((_kserve_route(snapshot), f"iris.models.{domain}"))
    assert len(routes) >= 3
    for route, host in routes:
        concrete = host.replace("*", "any-model")
        listeners = _attached(snapshot, route, concrete)
        assert listeners, f"{host}: no listener"
        for listener in listeners:
            assert listener["protocol"] == "HTTPS", (host, listener["name"])
            names = [
                name
                for ref in listener["tls"]["certificateRefs"]
                for name in certificates[ref["name"]]
            ]
            # The SNI-specific listener wins where one matches; the catch-all must still
            # carry a certificate, and the specific one must name the host.
            if listener.get("hostname"):
                assert any(_host_matches(n, concrete) for n in names), (host, names)
        assert any(
            any(
                _host_matches(n, concrete)
                for ref in listener["tls"]["certificateRefs"]
                for n in certificates[ref["name"]]
            )
            for listener in listeners
        ), host


def test_mldm_route_carries_grpc_to_the_proxy(snapshots: dict[str, Any]) -> None:
    route = resource(snapshots["onprem"], "route-mldm")["inputs"]
    assert route["spec"]["hostnames"] == ["mldm.pdk.internal"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "mldm-proxy", "port": 80}]
    (port,) = resource(snapshots["onprem"], "mldm-proxy")["inputs"]["spec"]["ports"]
    # Without h2c the gateway would speak HTTP/1.1 to the proxy and gRPC would fail.
    assert port["appProtocol"] == "kubernetes.io/h2c"


def test_serverless_models_reach_knative_through_the_edge(snapshots: dict[str, Any]) -> None:
    route = resource(snapshots["onprem"], "route-models")["inputs"]
    assert route["metadata"]["namespace"] == "istio-system"
    assert route["spec"]["hostnames"] == ["*.models.pdk.internal"]
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {"name": "istio-ingressgateway", "port": 80}
    ]


# --- the CA ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_ca_is_an_output_and_signs_the_gateway_certificates(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    ca = snapshot["outputs"][outputs.CA_CERTIFICATE]
    # The mocks fill each certificate's PEM with its resource name: the output is this CA's.
    assert ca.startswith("-----BEGIN CERTIFICATE-----\ntls-ca-cert-mock\n")
    assert resource(snapshot, "tls-ca-cert")["inputs"]["isCaCertificate"] is True
    secret = resource(snapshot, "tls-ca")["inputs"]
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == (
        "pdk-ca",
        "cert-manager",
    )
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["stringData"] == "[secret]"  # holds the CA's private key
    (issuer,) = _objects(snapshot, "ClusterIssuer")
    assert issuer["spec"] == {"ca": {"secretName": "pdk-ca"}}
    for certificate in _objects(snapshot, "Certificate"):
        assert certificate["spec"]["issuerRef"]["name"] == "pdk-ca"
        assert certificate["metadata"]["namespace"] == "pdk-edge"


# --- variants --------------------------------------------------------------------------------


def test_acme_issues_the_platform_hosts_and_needs_cert_manager_gateway_support(
    acme: dict[str, Any],
) -> None:
    issuers = {i["metadata"]["name"]: i for i in _objects(acme, "ClusterIssuer")}
    assert set(issuers) == {"pdk-ca", "pdk-acme"}
    spec = issuers["pdk-acme"]["spec"]["acme"]
    assert spec["email"] == "ops@pdk.example.org"
    assert spec["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (solver,) = spec["solvers"]
    assert solver["http01"]["gatewayHTTPRoute"]["parentRefs"] == [
        {"name": "pdk-gateway", "namespace": "pdk-edge", "kind": "Gateway", "sectionName": "http"}
    ]
    by_secret = {c["spec"]["secretName"]: c["spec"] for c in _objects(acme, "Certificate")}
    assert by_secret["pdk-platform-tls"]["issuerRef"]["name"] == "pdk-acme"
    assert by_secret["pdk-platform-tls"]["dnsNames"] == [
        "mlde.pdk.example.org",
        "mldm.pdk.example.org",
    ]
    # HTTP-01 cannot prove a wildcard: model hosts stay on the stack's CA.
    assert by_secret["pdk-models-tls"]["issuerRef"]["name"] == "pdk-ca"
    values = releases(acme)["cert-manager-release"]["values"]
    assert values["config"]["enableGatewayAPI"] is True
    assert "gateway-crds" in depends_on(acme, "cert-manager-release")
    assert validate_custom_resources(list(issuers.values())) == [None, None]


def test_tls_off_serves_plain_http_without_certificates(plaintext: dict[str, Any]) -> None:
    assert not _objects(plaintext, "Certificate") and not _objects(plaintext, "ClusterIssuer")
    assert outputs.CA_CERTIFICATE not in plaintext["outputs"]
    (listener,) = _gateway(plaintext)["spec"]["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTP", 80)
    commands = plaintext["outputs"][outputs.COMMANDS]
    assert commands["pachctlConnect"].startswith('pachctl connect "grpc://mldm.pdk.internal:80" &&')
    assert "--server-cas" not in commands["pachctlConnect"]
    assert "pdk-ca.crt" not in commands["detLogin"] + commands["predict"]
    assert plaintext["outputs"][outputs.MLDE]["url"] == "http://mlde.pdk.internal"


# --- bad input -------------------------------------------------------------------------------


def _problems(overrides: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config("test", {"target": "existing", **overrides})
    return [problem.render() for problem in caught.value.problems]


def test_acme_without_an_email_is_refused() -> None:
    (message,) = _problems({"tlsIssuer": "acme", "kserveDomain": "pdk.example.org"})
    assert "tlsAcmeEmail" in message and "must be a contact address" in message
    assert "pulumi config set tlsAcmeEmail" in message


def test_acme_with_the_placeholder_domain_is_refused() -> None:
    (message,) = _problems(
        {"tlsIssuer": "acme", "tlsAcmeEmail": "ops@pdk.example.org", "kserveDomain": "example.com"}
    )
    assert "kserveDomain = 'example.com'" in message
    assert "is not a public domain of yours" in message


def test_acme_with_a_domain_that_is_not_a_dns_name_is_refused() -> None:
    found = _problems(
        {
            "tlsIssuer": "acme",
            "tlsAcmeEmail": "ops@pdk.example.org",
            "kserveDomain": "https://pdk.example.org",
        }
    )
    assert any("kserveDomain" in m and "is not a DNS domain" in m for m in found), found


def test_acme_server_must_be_https() -> None:
    (message,) = _problems(
        {
            "tlsIssuer": "acme",
            "tlsAcmeEmail": "ops@pdk.example.org",
            "kserveDomain": "pdk.example.org",
            "tlsAcmeServer": "http://acme.internal/directory",
        }
    )
    assert "tlsAcmeServer" in message and "is not an https:// URL" in message


def test_plain_http_beyond_private_ranges_needs_an_acknowledgement() -> None:
    (message,) = _problems({"tlsEnabled": "false", "exposeSourceRanges": PUBLIC})
    assert "tlsEnabled" in message and "198.51.100.0/24" in message
    assert "10.0.0.0/8" not in message.split("(")[1].split(")")[0]
    assert "pulumi config set tlsPlaintextAcknowledged true" in message
    config = load_config(
        "test",
        {
            "target": "existing",
            "tlsEnabled": "false",
            "exposeSourceRanges": PUBLIC,
            "tlsPlaintextAcknowledged": "true",
        },
    )
    assert config.tls.enabled is False


def test_plain_http_inside_private_ranges_needs_no_acknowledgement() -> None:
    config = load_config("test", {"target": "existing", "tlsEnabled": "false"})
    assert config.tls.enabled is False
