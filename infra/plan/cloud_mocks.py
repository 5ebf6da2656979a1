"""What a cluster or cloud would compute for a resource or data source, faked for the offline
plan.

The Kubernetes side (load balancer addresses) is shared by every target and lives here; each
target's cloud outputs come from its ``mocks`` in the target registry. Only outputs the program
reads are faked; a new read shows up as a failing plan, not as a silently wrong value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from infra.targets import TARGETS


def _load_balancer(name: str, inputs: Mapping[str, Any], ip: bool) -> dict[str, Any]:
    """An Ingress, or a LoadBalancer Service, gets an address from the cluster's load balancer
    controller; the Kubernetes provider waits for it. ``ip``: the cloud reports an address
    (one from the documentation range 203.0.113.0/24) instead of a host name."""
    object_name = str(inputs.get("metadata", {}).get("name", name))
    if ip:
        number = int(hashlib.sha256(object_name.encode()).hexdigest(), 16) % 200 + 10
        return {"status": {"loadBalancer": {"ingress": [{"ip": f"203.0.113.{number}"}]}}}
    return {
        "status": {"loadBalancer": {"ingress": [{"hostname": f"{object_name}.lb-mock.example"}]}}
    }


def _service(name: str, inputs: Mapping[str, Any], ip: bool) -> dict[str, Any]:
    if inputs.get("spec", {}).get("type") != "LoadBalancer":
        return {}
    return _load_balancer(name, inputs, ip)


def _certificate(name: str, _: Mapping[str, Any], __: bool) -> dict[str, Any]:
    """A PEM-shaped placeholder; nothing offline parses it."""
    return {"certPem": f"-----BEGIN CERTIFICATE-----\n{name}-mock\n-----END CERTIFICATE-----\n"}


_KUBERNETES: dict[str, Callable[[str, Mapping[str, Any], bool], dict[str, Any]]] = {
    "tls:index/selfSignedCert:SelfSignedCert": _certificate,
    "kubernetes:core/v1:Service": _service,
    "kubernetes:networking.k8s.io/v1:Ingress": _load_balancer,
}


def resource_outputs(
    typ: str, name: str, inputs: Mapping[str, Any], providers: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Outputs a cluster or cloud would add to ``inputs`` for a resource of type ``typ``.
    ``providers`` holds the inputs of each target provider seen so far, by provider type."""
    kubernetes = _KUBERNETES.get(typ)
    if kubernetes is not None:
        ip = any(t.mocks.load_balancer_ip for t in TARGETS.values() if t.provider_type in providers)
        return kubernetes(name, inputs, ip)
    for target in TARGETS.values():
        compute = target.mocks.resources.get(typ)
        if compute is not None:
            return compute(name, inputs, providers.get(target.provider_type, {}))
    return {}


def call_outputs(token: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """What a data source returns, for the ones the program calls."""
    for target in TARGETS.values():
        compute = target.mocks.calls.get(token)
        if compute is not None:
            return compute(args)
    return {}
