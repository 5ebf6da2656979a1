"""Shared value types of the stack config: each an ``Annotated`` string or integer whose
validator raises one ``pdk`` error naming what is wrong, what is allowed and how to fix it.

A type that one owner uses lives next to it (node labels and domains in
``infra/platform/config.py``, EC2 instance types in ``infra/targets/aws/config.py``); the ones
here are used by more than one.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from infra import versions

PROJECT = "pdk-deployer"
"""The Pulumi project name, and so the namespace of every config key (``pdk-deployer:target``)."""

SUPPORTED_KUBERNETES_VERSIONS = versions.KUBERNETES_VERSIONS
"""Kubernetes minor versions ``kubernetesVersion`` accepts (the manifests are validated against
each one's OpenAPI schema); the version matrix's rule then rejects one a pin does not support."""

OFFLINE_SECRET = "[secret: not decrypted offline]"
"""Stands in for a ``secure:`` config value when a stack file is read without Pulumi's
decryption (``pdk plan``); checks that need the plaintext skip such values."""


class ConfigObject(str):
    """A value the stack file gives as a list or mapping, as Pulumi passes it: its JSON text.
    Every declared key is a scalar, so the loader refuses it, as the Pulumi CLI does."""


class Model(BaseModel):
    """Base of every config group: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def fail(reason: str, allowed: str, fix: str) -> PydanticCustomError:
    """The error a value validator raises; the loader turns it into a ``Problem``."""
    return PydanticCustomError(
        "pdk", "{reason}", {"reason": reason, "allowed": allowed, "fix": fix}
    )


QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
IMAGE = re.compile(
    # A port may only follow the first component, and only when a path follows it: in
    # "team/app:1" the ":1" is a tag, in "localhost:5000/app:1" the ":5000" is a port.
    r"^(?P<repo>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+(?=/))?(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_CHART_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)


def _quantity(value: str) -> str:
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        raise fail(
            "has no unit, so Kubernetes would read it as bytes",
            "a positive number with a binary suffix, e.g. 20Gi, 500Mi, 1Ti",
            f"write {value}Gi if you mean GiB",
        )
    if not QUANTITY.match(value) or float(re.sub(r"[A-Za-z]+$", "", value)) <= 0:
        raise fail(
            "is not a Kubernetes storage quantity",
            "a positive number with a binary suffix, e.g. 20Gi, 500Mi, 1Ti",
            "write the size with a unit such as Gi",
        )
    return value


DEPLOYMENT_ID_ALLOWED = "1-20 lowercase letters, digits and '-', starting and ending alphanumeric"


def is_deployment_id(value: str) -> bool:
    """Whether ``value`` can sit in every derived name: buckets (3-63 characters, no '_' or
    '.'), IAM roles (64), EKS node groups (63) and label values (63), all of which add at most
    43 characters of their own."""
    return bool(_DNS_LABEL.match(value)) and len(value) <= 20


def stack_deployment_id(stack: str) -> str:
    """The deployment id a stack gets when ``deploymentId`` is empty: its name, as a label
    value, lowercased. The loader checks it with ``is_deployment_id`` before anything runs."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", stack)[:63]
    return (cleaned.strip("-_.") or "unnamed").lower()


def _dns_label(value: str) -> str:
    if value and not is_deployment_id(value):
        raise fail(
            "is not a short DNS label",
            DEPLOYMENT_ID_ALLOWED,
            "choose an id such as 'ci-1234' (it ends up in bucket and label values)",
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


def _kubernetes_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise fail(
            "is not a supported Kubernetes version",
            ", ".join(SUPPORTED_KUBERNETES_VERSIONS),
            "set the MAJOR.MINOR version your cluster runs",
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


def split_list(value: str) -> list[str]:
    """A comma-separated config value as its non-empty, stripped items."""
    return [part.strip() for part in value.split(",") if part.strip()]


Quantity = Annotated[str, AfterValidator(_quantity)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
SourceRanges = Annotated[str, AfterValidator(source_ranges)]
