"""In-cluster addresses of the platform's services, computed from release and service names.

Charts derive service names from their release names, which this project fixes, so these are
known before anything is deployed and can go into ``pdk-config``, ``pipeline-secret`` and the
stack outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi


def host_and_port(url: pulumi.Input[str]) -> pulumi.Output[str]:
    """``HOST:PORT`` of a URL, the form S3 clients in charts and KServe annotations expect."""
    return pulumi.Output.from_input(url).apply(lambda text: urlsplit(text).netloc or text)


@dataclass(frozen=True)
class Endpoint:
    """One port of one Service."""

    namespace: str
    service: str
    port: int
    scheme: str
    """URL scheme clients use on this port (http, grpc)."""
    port_name: str = "http"
    """The port's name in the Service, for looking up its node port."""

    @property
    def host(self) -> str:
        return f"{self.service}.{self.namespace}.svc.cluster.local"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"
