"""Value types of Kubernetes, OCI images, Helm and IP networks, as config models declare them.

Each is an ``Annotated`` string whose validator raises one ``pdk`` error (``fail``) naming what
is wrong, what is allowed and how to fix it. They are shared by the platform's groups and the
targets' sections; the config machinery itself (``infra/config/``) does not need them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

from infra.config.problems import fail

IMAGE = re.compile(
    # A port may only follow the first component, and only when a path follows it: in
    # "team/app:1" the ":1" is a tag, in "localhost:5000/app:1" the ":5000" is a port.
    r"^(?P<repo>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+(?=/))?(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$")
_CHART_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
_SIZE_ALLOWED = "a positive number with a binary suffix, e.g. 20Gi, 500Mi, 1Ti"


def _quantity(value: str) -> str:
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        raise fail(
            "has no unit, so Kubernetes would read it as bytes",
            _SIZE_ALLOWED,
            f"write {value}Gi if you mean GiB",
        )
    if not _QUANTITY.match(value) or float(re.sub(r"[A-Za-z]+$", "", value)) <= 0:
        raise fail(
            "is not a Kubernetes storage quantity",
            _SIZE_ALLOWED,
            "write the size with a unit such as Gi",
        )
    return value


def _pinned_image(value: str) -> str:
    match = IMAGE.match(value)
    if not match:
        raise fail(
            "is not a container image reference",
            "REGISTRY/REPOSITORY:TAG or ...@sha256:DIGEST",
            "copy the reference from the image's registry page",
        )
    if not match["digest"] and match["tag"] in (None, "latest"):
        raise fail(
            "is not pinned",
            "an explicit version tag (not 'latest') or a sha256 digest",
            f"pin it, e.g. {match['repo']}:<version>",
        )
    return value


def _chart_version(value: str) -> str:
    if not _CHART_VERSION.match(value):
        raise fail(
            "is not a version",
            "an exact semantic version such as 1.17.2 or v1.17.2 (no ranges, no 'latest')",
            "copy the version from the chart's or project's release page",
        )
    return value


def source_ranges(value: str) -> str:
    """Comma-separated CIDRs, normalised (no blanks); raises the ``pdk`` error otherwise."""
    ranges = [part.strip() for part in value.split(",")]
    for cidr in ranges:
        try:
            # A bare address parses as a /32 network; the API server and the load balancers
            # reject it at deploy time, so demand the prefix here.
            if "/" not in cidr:
                raise ValueError(cidr)
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise fail(
                f"contains {cidr!r}, which is not a network in CIDR notation",
                "comma-separated CIDRs with host bits zero, e.g. 10.0.0.0/8,203.0.113.7/32",
                "write each range as ADDRESS/PREFIX",
            ) from None
    return ",".join(ranges)


def chart_archive(chart: str, version: str) -> str:
    """The file a ``chartArchives`` folder holds for ``chart`` (a name or an ``oci://``
    reference, whose last part is the name) at ``version`` as pinned, as ``helm package`` names
    it: ``cert-manager-v1.21.2.tgz``, ``pachyderm-2.12.2.tgz``."""
    return f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


def split_list(value: str) -> list[str]:
    """A comma-separated config value as its non-empty, stripped items."""
    return [part.strip() for part in value.split(",") if part.strip()]


Quantity = Annotated[str, AfterValidator(_quantity)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
SourceRanges = Annotated[str, AfterValidator(source_ranges)]
